"""``eval --run DIR`` scores a benchmark exactly as the run scored its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from raresupport.cli import app
from raresupport.config import EvalConfig, GenerateConfig, RunConfig
from raresupport.pipeline import run_pipeline
from raresupport.train.config import TrainConfig


@pytest.fixture(scope="module")
def run_dir(tiny_model_dir: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    cfg = RunConfig(
        disease="hyperhidrosis", model=str(tiny_model_dir), generate=GenerateConfig(n=24),
        train=TrainConfig(max_steps=2, batch_size=4, max_length=320, lr=0.05),
        evaluate=EvalConfig(batch_size=16),
    )  # fmt: skip
    run_pipeline(cfg, out, log=lambda m: None)
    return out


def _rows(path: Path, bench: str) -> list[dict]:
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    return [r for r in rows if r["benchmark"] == bench]


def _strip(metrics: dict) -> dict:
    """Everything but wall times and file paths."""
    out = {}
    for name, block in metrics["benchmarks"].items():
        out[name] = {m: {k: v for k, v in b.items() if k not in ("seconds", "questions_per_s")}
                     for m, b in block["by_method"].items()}
    return out


def test_eval_run_reproduces_the_runs_tuned_metrics_exactly(run_dir, tmp_path, hyperhidrosis):
    bench = hyperhidrosis.benchmark_path
    res = CliRunner().invoke(app, ["eval", "--run", str(run_dir), "--benchmark", str(bench),
                                   "--out", str(tmp_path / "again")])
    assert res.exit_code == 0, res.output
    for cell in ("tuned", "tuned+notes"):
        ours = json.loads((tmp_path / "again" / cell / "metrics.json").read_text())
        run = json.loads((run_dir / "eval" / cell / "metrics.json").read_text())
        assert _strip(ours)["benchmark"] == _strip(run)["benchmark"], cell
        assert (_rows(tmp_path / "again" / cell / "predictions.jsonl", "benchmark")
                == _rows(run_dir / "eval" / cell / "predictions.jsonl", "benchmark")), cell
    notes = json.loads((tmp_path / "again" / "tuned+notes" / "metrics.json").read_text())
    assert notes["benchmarks"]["benchmark"]["with_notes"] > 0
    assert notes["retrieval"]["k"] >= 1


def test_run_report_has_four_cells_and_per_char_headline(run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    four = metrics["four_cells"]
    assert set(four) == {"benchmark", "ood"}
    for row in four.values():
        assert set(row["cells"]) == {"baseline", "baseline+notes", "tuned", "tuned+notes"}
        assert row["baseline_best"]["cell"] in ("baseline", "baseline+notes")
    block = metrics["tuned"]["benchmarks"]["benchmark"]["by_method"]["loglik"]
    assert set(block["variants"]) == {"per_token", "sum"}  # per character decides
    settings = json.loads((run_dir / "eval" / "settings.json").read_text())
    assert settings["normalization"] == "per_char" and settings["retrieval"]["retriever"] == "bm25"
    raft = metrics["extra"]["retrieval"]
    assert raft["roles"]["gold_removed"] == round(raft["n_train"] * 0.2)
    assert "| task | baseline | baseline+notes | tuned | tuned+notes |" in (
        run_dir / "report.md").read_text()


def test_eval_run_refuses_a_folder_that_is_not_a_run(tmp_path, hyperhidrosis):
    res = CliRunner().invoke(app, ["eval", "--run", str(tmp_path), "--benchmark",
                                   str(hyperhidrosis.benchmark_path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "settings.json: not found" in res.output


def test_a_run_saved_before_option_notes_and_routing_is_rescored_as_it_was(
    run_dir, tmp_path, hyperhidrosis, monkeypatch
):
    """Settings without ``option_notes``/``off_topic`` mean question-only notes and the
    adapter for every question, as such runs were scored."""
    import raresupport.evaluate.runner as runner
    from raresupport.chat import notes_block
    from raresupport.evaluate.as_run import evaluate_cells
    from raresupport.retrieve import load_retriever
    from raresupport.retrieve.notes import query_of

    settings = json.loads((run_dir / "eval" / "settings.json").read_text())
    for key in ("option_notes", "off_topic"):
        settings["retrieval"].pop(key)
    seen: dict = {}
    real = runner.evaluate_benchmarks

    def capture(backend, items, *args, **kw):
        if not any(i.notes for its in items.values() for i in its):
            return real(backend, items, *args, **kw)  # the plain cell, scored first
        seen.setdefault("items", items)
        seen.setdefault("off_topic_base", kw.get("off_topic_base"))
        raise SystemExit  # stop in the notes cell

    monkeypatch.setattr(runner, "evaluate_benchmarks", capture)
    with pytest.raises(SystemExit):
        evaluate_cells(settings, hyperhidrosis.spec, run_dir / "adapter",
                       [hyperhidrosis.benchmark_path], {"plain": tmp_path / "p",
                                                        "notes": tmp_path / "n"})  # fmt: skip
    assert seen["off_topic_base"] is False
    r = settings["retrieval"]
    retriever = load_retriever(hyperhidrosis.spec, r["retriever"], cutoff=r["cutoff"])
    for item in seen["items"]["benchmark"][:20]:
        hits = retriever.retrieve(query_of(item), k=r["k"])
        assert item.notes == notes_block(hits, r["max_note_chars"])
