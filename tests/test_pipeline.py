"""The one-command pipeline on a tiny model: every artefact, resume, and config guarding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raresupport.config import EvalConfig, GenerateConfig, RunConfig
from raresupport.pipeline import RunFolderError, run_pipeline
from raresupport.train.config import TrainConfig


def _config(model: Path, **train) -> RunConfig:
    return RunConfig(
        disease="hyperhidrosis",
        model=str(model),
        generate=GenerateConfig(n=24),
        train=TrainConfig(**{"max_steps": 2, "batch_size": 4, "max_length": 256, **train}),
        evaluate=EvalConfig(batch_size=16),
    )


def test_run_writes_everything_and_resumes(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    logs: list[str] = []
    paths = run_pipeline(_config(tiny_model_dir), out, log=logs.append)
    for rel in ("data/train.jsonl", "data/manifest.json", "adapter/adapter_config.json",
                "metrics.json", "report.html", "report.md", "run_config.json"):
        assert (out / rel).exists(), rel
    assert paths["html"] == out / "report.html"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["headline_method"] == "loglik"
    for side in ("baseline", "tuned"):
        assert set(metrics[side]["benchmarks"]) == {"benchmark", "ood"}
        for block in metrics[side]["benchmarks"].values():
            assert set(block["by_method"]) == set(EvalConfig().methods) == {"loglik"}
    assert not any(m.startswith("[skip]") for m in logs)
    run_log = (out / "run.log").read_text(encoding="utf-8")
    assert "[done] train" in run_log and "train 2/2 loss" in run_log  # progress reaches the file

    again: list[str] = []
    run_pipeline(_config(tiny_model_dir), out, log=again.append)
    assert sum(m.startswith("[skip]") for m in again) == 7  # +retrieve, +2 safety steps
    for side in ("baseline", "tuned"):
        safety = metrics["extra"]["safety"][side]
        assert {"escalation", "sycophancy", "collapse", "ood"} <= set(safety)
        assert set(safety["escalation"]) == {"loglik"}
        assert set(safety["by_style"]["multi-visit"]) == {"loglik"}
    assert "## Safety" in (out / "report.md").read_text()
    assert "| multi-visit: loglik |" in (out / "report.md").read_text()


def test_a_second_run_reads_the_untuned_scores_from_the_cache(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """Another adapter (another lr) on the same base: the baseline cells and safety suites are
    read back, the tuned ones scored; the report and the log say so; an estimate is logged."""
    first: list[str] = []
    run_pipeline(_config(tiny_model_dir, max_steps=6), tmp_path / "a", log=first.append)
    logs: list[str] = []
    run_pipeline(_config(tiny_model_dir, max_steps=6, lr=0.05), tmp_path / "b", log=logs.append)
    for run, hit in (("a", False), ("b", True)):
        base = tmp_path / run / "eval" / "baseline"
        for cell in (base, base.with_name("baseline+notes")):
            assert json.loads((cell / "metrics.json").read_text())["score_cache"]["hit"] is hit
        assert (json.loads((base / "safety.json").read_text()).get("score_cache", {})
                .get("hit", False)) is hit  # fmt: skip
        assert "score_cache" not in json.loads((base.with_name("tuned") / "metrics.json")
                                               .read_text())  # fmt: skip
    a, b = (json.loads((tmp_path / r / "metrics.json").read_text()) for r in "ab")
    assert a["baseline"]["benchmarks"] == b["baseline"]["benchmarks"]
    assert a["extra"]["safety"]["baseline"]["sycophancy"] == b["extra"]["safety"]["baseline"][
        "sycophancy"]
    report = (tmp_path / "b" / "report.md").read_text()
    assert "## Run time" in report and "came from the score cache" in report
    assert "came from the score cache" not in (tmp_path / "a" / "report.md").read_text()
    assert any(m.startswith("[time] train ~") and "left (done near" in m for m in first)
    order = [m.split("] ")[1].split(" ...")[0] for m in logs if m.startswith("[run ]")]
    assert order.index("evaluate baseline") < order.index("train") < order.index("evaluate tuned")


def test_resume_under_another_config_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "run_config.json").write_text(_config(tiny_model_dir).model_dump_json())
    with pytest.raises(RunFolderError, match="differs in: train"):
        run_pipeline(_config(tiny_model_dir, lr=0.5), out, log=lambda m: None)
    assert not (out / "data").exists()


def test_cli_keeps_the_config_file_and_the_run_defaults(tiny_model_dir: Path, tmp_path: Path):
    """Flags override the file only when given; a partial train section keeps TrainConfig's
    defaults, the same ones ``raresupport train`` uses."""
    import yaml
    from typer.testing import CliRunner

    from raresupport.cli import app

    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump({
        "generate": {"n": 24}, "train": {"max_steps": 1, "batch_size": 4, "max_length": 256},
        "evaluate": {"batch_size": 16, "methods": ["letter", "loglik"], "headline": "letter"},
    }))  # fmt: skip
    res = CliRunner().invoke(app, [
        "run", "hyperhidrosis", "--model", str(tiny_model_dir), "--config", str(cfg),
        "--lr", "0.01", "--out", str(tmp_path / "run"),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    saved = json.loads((tmp_path / "run" / "run_config.json").read_text())
    assert saved["generate"]["n"] == 24 and saved["evaluate"]["headline"] == "letter"
    assert saved["train"]["lr"] == 0.01 and saved["train"]["max_steps"] == 1
    defaults = TrainConfig()
    assert saved["train"]["top_layers"] == defaults.top_layers == 8
    assert tuple(saved["train"]["styles"]) == defaults.styles == ("cloze",)
    assert saved["train"]["epochs"] == defaults.epochs == 2.5
