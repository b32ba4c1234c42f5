"""A third-party package adds a generator and a scorer through entry points: the CLI lists them
and ``raresupport run`` uses them when the config names them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from raresupport.cli import app

PLUGIN = '''
from raresupport.evaluate.base import Prediction
from raresupport.generate.grounded import GroundedGenerator


class EchoGenerator(GroundedGenerator):
    """The grounded generator under another name, counting its calls."""

    name = "echo"
    calls = 0

    def generate(self, disease, n, tasks, seed):
        type(self).calls += 1
        return super().generate(disease, n, tasks, seed)


def always_first(backend, items, *, system_prompt=None, batch_size=8, progress=False, **_):
    """Predicts the first option; reads the tokenizer so it must get a local backend."""
    assert backend.tokenizer is not None
    return [Prediction(i.id, i.task, i.answer, next(iter(i.options))) for i in items]


always_first.backend = "local"
'''
ENTRY_POINTS = (
    "[raresupport.generators]\necho = acme_plugins:EchoGenerator\n\n"
    "[raresupport.scorers]\nfirst-option = acme_plugins:always_first\n"
)


@pytest.fixture
def acme(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    from raresupport.evaluate.base import scorers
    from raresupport.generate.base import generators

    root = tmp_path_factory.mktemp("site")
    (root / "acme_plugins.py").write_text(PLUGIN)
    info = root / "acme_plugins-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugins\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(root))
    generators.reload()
    scorers.reload()
    yield
    generators.remove("echo")
    scorers.remove("first-option")
    generators.reload()
    scorers.reload()
    sys.modules.pop("acme_plugins", None)


def test_the_cli_lists_third_party_plugins(acme) -> None:
    listed = CliRunner().invoke(app, ["plugins"])
    assert listed.exit_code == 0, listed.output
    text = " ".join(listed.output.split())
    assert "echo" in text and "first-option" in text



def test_help_lists_them_in_a_fresh_process(acme) -> None:
    """``--help`` of ``eval`` and ``generate`` names the installed methods and generators."""
    import os
    import subprocess

    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([sys.path[0], src]), "COLUMNS": "200"}
    for command, name in (("eval", "first-option"), ("generate", "echo")):
        done = subprocess.run([sys.executable, "-m", "raresupport", command, "--help"],
                              env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert name in done.stdout, done.stdout


def test_run_uses_the_generator_and_scorer_named_in_the_config(acme, tiny_model_dir, tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump({
        "generate": {"generator": "echo", "n": 24},
        "train": {"max_steps": 1, "batch_size": 4, "max_length": 256},
        "evaluate": {"methods": ["loglik", "first-option"], "headline": "first-option",
                     "batch_size": 16},
    }))  # fmt: skip
    out = tmp_path / "run"
    res = CliRunner().invoke(app, [
        "run", "hyperhidrosis", "--model", str(tiny_model_dir), "--config", str(cfg),
        "--out", str(out),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert sys.modules["acme_plugins"].EchoGenerator.calls >= 1
    assert json.loads((out / "data" / "manifest.json").read_text())["generator"] == "echo"
    metrics = json.loads((out / "eval" / "tuned" / "metrics.json").read_text())
    rows = [json.loads(line) for line in (out / "eval" / "tuned" / "predictions.jsonl").open()]
    first = [r for r in rows if r["method"] == "first-option"]
    assert first and all(r["pred"] == "A" for r in first)
    assert set(metrics["benchmarks"]["benchmark"]["by_method"]) == {"loglik", "first-option"}


def test_an_unknown_generator_in_the_config_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump({"generate": {"generator": "nope"}}))
    res = CliRunner().invoke(app, ["run", "hyperhidrosis", "--config", str(cfg),
                                   "--out", str(tmp_path / "r")])  # fmt: skip
    assert res.exit_code == 2
    assert "generate.generator: unknown generator 'nope'; known: grounded" in res.output
    assert not (tmp_path / "r").exists()
