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


def test_cad_variants_of_the_notes_cell_cost_no_forward_pass(
    tiny_model_dir, tmp_path, hyperhidrosis, monkeypatch
):
    """The run's cad / cad_adaptive come from the two cells' scores: the forward passes are
    exactly those of loglik on every item plus loglik on the items that got notes."""
    from raresupport.data.benchmark import load_benchmark, write_jsonl
    from raresupport.evaluate import rules
    from raresupport.evaluate.as_run import eval_settings, evaluate_cells
    from raresupport.evaluate.base import best_letter
    from raresupport.evaluate.hf import score_loglik
    from raresupport.evaluate.runner import read_predictions
    from raresupport.models.backends import LocalModel
    from raresupport.retrieve import RetrievalConfig, load_retriever
    from raresupport.retrieve.notes import with_notes

    spec = hyperhidrosis.spec
    items = (load_benchmark(hyperhidrosis.benchmark_path)[:6]
             + load_benchmark(hyperhidrosis.ood_path)[:4])  # off-topic: no notes
    bench = write_jsonl(tmp_path / "bench.jsonl", items)
    cfg = RunConfig(disease="hyperhidrosis", model=str(tiny_model_dir),
                    evaluate=EvalConfig(batch_size=4, mixed_precision="no"))  # fmt: skip
    settings = eval_settings(cfg, spec)
    calls = {"n": 0}
    load = LocalModel.load

    def counted(*args, **kwargs):
        backend = load(*args, **kwargs)
        backend.model.register_forward_pre_hook(lambda *_: calls.__setitem__("n", calls["n"] + 1))
        return backend

    monkeypatch.setattr(LocalModel, "load", staticmethod(counted))
    rcfg = RetrievalConfig.model_validate(settings["retrieval"])
    noted = [i for i in with_notes(items, load_retriever(spec, rcfg.retriever, **rcfg.options()),
                                   rcfg) if i.notes]  # fmt: skip
    assert 0 < len(noted) < len(items)
    probe = LocalModel.load(str(tiny_model_dir))
    score_loglik(probe, items, system_prompt=spec.system_prompt, batch_size=4)
    score_loglik(probe, noted, system_prompt=spec.system_prompt, batch_size=4)
    expected, calls["n"] = calls["n"], 0

    dirs = {"plain": tmp_path / "plain", "notes": tmp_path / "notes"}
    out = evaluate_cells(settings, spec, None, [bench], dirs)
    assert calls["n"] == expected

    block = out["notes"]["benchmarks"]["bench"]["by_method"]["loglik"]
    assert set(block["variants"]) == {"per_token", "sum", "cad", "cad_adaptive"}
    assert set(out["plain"]["benchmarks"]["bench"]["by_method"]["loglik"]["variants"]) == {
        "per_token", "sum"}  # fmt: skip
    written = json.loads((dirs["notes"] / "metrics.json").read_text())
    assert written["benchmarks"]["bench"]["by_method"]["loglik"]["variants"]["cad"] == (
        block["variants"]["cad"])
    plain = read_predictions(dirs["plain"] / "predictions.jsonl")["bench"]["loglik"]
    notes = read_predictions(dirs["notes"] / "predictions.jsonl")["bench"]["loglik"]
    ids = {i.id for i in noted}
    for pid, p in notes.items():
        want = (best_letter(rules.cad(p.scores, plain[pid].scores, 0.5)) if pid in ids
                else p.pred)  # fmt: skip
        assert p.extra["variants"]["cad"] == want
        if pid not in ids:
            assert p.extra["variants"]["cad_adaptive"] == p.pred
