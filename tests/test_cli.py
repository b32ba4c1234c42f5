"""The CLI: listing, validation, version; bad input -> one line, exit code != 0, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from raresupport import __version__
from raresupport.cli import app
from tests.helpers.specs import minimal_spec

runner = CliRunner()


def test_version_and_help() -> None:
    assert __version__ in runner.invoke(app, ["--version"]).output
    out = runner.invoke(app, ["--help"]).output
    for cmd in ("diseases", "spec", "benchmark", "generate"):
        assert cmd in out


def test_diseases_lists_reference() -> None:
    res = runner.invoke(app, ["diseases"])
    assert res.exit_code == 0 and "hyperhidrosis" in res.output


def test_spec_validate_ok_and_bad(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(minimal_spec()))
    assert runner.invoke(app, ["spec", "validate", str(good)]).exit_code == 0
    data = minimal_spec()
    data["treatments"][1]["line"] = "fourth"
    bad = tmp_path / "spec.yaml"
    bad.write_text(yaml.safe_dump(data))
    res = runner.invoke(app, ["spec", "validate", str(bad)])
    assert res.exit_code != 0
    assert "spec.yaml" in res.output and "treatments[1].line" in res.output
    assert "Traceback" not in res.output


def test_benchmark_validate_bad_line(tmp_path: Path) -> None:
    p = tmp_path / "b.jsonl"
    item = {"id": "1", "task": "t", "question": "q", "options": {"A": "a", "B": "b"}, "answer": "A"}
    p.write_text(json.dumps(item) + "\n" + json.dumps(dict(item, id="2", answer="C")) + "\n")
    res = runner.invoke(app, ["benchmark", "validate", str(p)])
    assert res.exit_code != 0 and "b.jsonl:2: answer" in res.output
    assert "Traceback" not in res.output


def test_shipped_files_validate_via_cli() -> None:
    from raresupport import load_disease

    d = load_disease("hyperhidrosis")
    assert runner.invoke(app, ["spec", "validate", str(d.root)]).exit_code == 0
    by_id = runner.invoke(app, ["spec", "validate", "hyperhidrosis"])
    assert by_id.exit_code == 0 and f"{len(d.spec.facts)} facts" in " ".join(by_id.output.split())
    unknown = runner.invoke(app, ["spec", "validate", "no-such-disease"])
    assert unknown.exit_code == 2 and "no-such-disease" in unknown.output
    res = runner.invoke(app, ["benchmark", "validate", str(d.benchmark_path), str(d.ood_path)])
    assert res.exit_code == 0, res.output


def _one_line_error(res, *needles: str) -> None:
    """Exit code 2, one ``error:`` line holding every needle, no traceback."""
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2, res.output
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    assert "Traceback" not in res.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_user_text_prints_as_is_never_as_markup(tmp_path: Path) -> None:
    """Spec names, paths and error messages are user text: rich markup and emoji codes in them
    print literally (an unmatched closing tag used to raise MarkupError)."""
    for name in ("Odd [/x] disease", "Odd [red]y[/red] :100: :smile:"):
        data = minimal_spec()
        data["name"] = name
        spec = tmp_path / "spec.yaml"
        spec.write_text(yaml.safe_dump(data))
        res = runner.invoke(app, ["spec", "validate", str(spec)])
        assert res.exit_code == 0 and name in res.output, res.output
    data["facts"][0]["keys"] = ["[/x] not in the statement"]
    spec.write_text(yaml.safe_dump(data))
    _one_line_error(runner.invoke(app, ["spec", "validate", str(spec)]),
                    "facts[0].keys[0]", "'[/x] not in the statement'")  # fmt: skip
    _one_line_error(runner.invoke(app, ["spec", "validate", str(tmp_path / "[red]x :100:")]),
                    "[red]x :100:")  # fmt: skip


SHAPES = {
    "a section that is a number": ("generate: 5\n", "generate must be a mapping, not int"),
    "a nested section that is a number": ("generate:\n  options: 5\n",
                                          "generate.options must be a mapping, not int"),
    "a list": ("- a\n- b\n", "a config file holds a mapping, not list"),
    "a duplicated key": ("train: {lr: 0.1}\ntrain: {lr: 0.2}\n", ":2: duplicate key 'train'"),
    "invalid YAML": ("train: [\n", "invalid YAML"),
}


@pytest.mark.parametrize("text,needle", SHAPES.values(), ids=list(SHAPES))
@pytest.mark.parametrize("command", ["run", "loop"])
def test_a_config_file_of_any_wrong_shape_is_one_line(
    tmp_path: Path, command: str, text: str, needle: str
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    if command == "loop" and "generate" in text:  # the loop nests the run's config
        cfg.write_text("run:\n" + "".join(f"  {ln}\n" for ln in text.splitlines()))
        needle = "run." + needle.split(" must")[0]  # pydantic's message or ours: the path
    res = runner.invoke(app, [command, "hyperhidrosis", "--out", str(tmp_path / "o"),
                              "--config", str(cfg), "--teacher-model", "m"]
                        if command == "run" else
                        [command, "hyperhidrosis", "--out", str(tmp_path / "o"), "--config",
                         str(cfg)])  # fmt: skip
    _one_line_error(res, "c.yaml", needle)


@pytest.mark.parametrize("value", ["x=[", "x={a: 1", "novalue", "=1"])
def test_a_bad_key_value_option_is_one_line(tmp_path: Path, value: str) -> None:
    res = runner.invoke(app, ["generate", "hyperhidrosis", "--n", "8", "--out",
                              str(tmp_path / "g"), "--option", value])  # fmt: skip
    _one_line_error(res, "--option", repr(value))


@pytest.mark.parametrize("out", ["file", "file/sub"])
def test_an_out_path_that_cannot_be_a_folder_is_one_line(tmp_path: Path, out: str) -> None:
    (tmp_path / "file").write_text("x")
    res = runner.invoke(app, ["generate", "hyperhidrosis", "--n", "8", "--out",
                              str(tmp_path / out)])  # fmt: skip
    _one_line_error(res, str(tmp_path / out))


def test_eval_checks_the_adapter_folder_before_loading_any_model(tmp_path: Path) -> None:
    """A folder that is not an adapter is named at once (the model named here does not even
    exist, so reaching the model loader would give another error)."""
    from raresupport import load_disease

    bench = str(load_disease("hyperhidrosis").benchmark_path)
    res = runner.invoke(app, ["eval", "--model", str(tmp_path / "no-model"), "--adapter",
                              str(tmp_path), "--benchmark", bench, "--out", str(tmp_path / "e")])
    _one_line_error(res, "no adapter_config.json")
