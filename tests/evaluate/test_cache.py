"""The score cache: an untuned cell is read back only when every part of its key matches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raresupport.config import EvalConfig, RunConfig
from raresupport.evaluate import cache
from raresupport.evaluate.as_run import eval_settings, evaluate_cells


@pytest.fixture
def bench(tmp_path: Path, hyperhidrosis) -> Path:
    """Twelve benchmark lines (a small file keeps each scoring pass short)."""
    lines = hyperhidrosis.benchmark_path.read_text().splitlines()[:12]
    path = tmp_path / "bench" / "benchmark.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n")
    return path


def _settings(model: Path, hyperhidrosis, **evaluate) -> dict:
    cfg = RunConfig(disease="hyperhidrosis", model=str(model),
                    evaluate=EvalConfig(batch_size=16, **evaluate))  # fmt: skip
    return eval_settings(cfg, hyperhidrosis.spec)


def _cells(settings: dict, spec, bench: Path, out: Path) -> dict:
    got = evaluate_cells(settings, spec, None, [bench], {"plain": out / "p", "notes": out / "n"})
    return {cell: m["score_cache"]["hit"] for cell, m in got.items()}


def test_a_cell_is_reused_only_when_every_part_of_its_key_matches(
    tiny_model_dir: Path, tmp_path: Path, hyperhidrosis, bench: Path
) -> None:
    from raresupport.models.precision import use_bf16
    from raresupport.models.tiny import build_tiny_model

    spec = hyperhidrosis.spec
    settings = _settings(tiny_model_dir, hyperhidrosis)
    other_precision = "no" if use_bf16(settings["mixed_precision"], "cpu") else "bf16"
    assert _cells(settings, spec, bench, tmp_path / "1") == {"notes": False, "plain": False}
    assert _cells(settings, spec, bench, tmp_path / "2") == {"notes": True, "plain": True}
    # the restored cell is the scored one: same predictions, same accuracy
    for cell in ("p", "n"):
        assert ((tmp_path / "1" / cell / "predictions.jsonl").read_text()
                == (tmp_path / "2" / cell / "predictions.jsonl").read_text())  # fmt: skip
        a, b = (json.loads((tmp_path / d / cell / "metrics.json").read_text()) for d in "12")
        assert a["benchmarks"] == b["benchmarks"]
    changed = {
        "system prompt": {**settings, "system_prompt": "You are terse."},
        "methods": {**settings, "methods": ["letter", "loglik"]},
        "normalization": {**settings, "normalization": "per_token"},
        "batch size": {**settings, "batch_size": 3},
        "precision": {**settings, "mixed_precision": other_precision},
        "base weights": {**settings, "model": str(build_tiny_model(tmp_path / "other", seed=1))},
    }
    for i, (what, other) in enumerate(changed.items()):
        got = _cells(other, spec, bench, tmp_path / f"c{i}")
        assert got == {"notes": False, "plain": False}, what
    # notes settings change only the notes cell
    notes = {**settings, "retrieval": {**settings["retrieval"], "k": 1, "option_notes": 0}}
    assert _cells(notes, spec, bench, tmp_path / "notes") == {"notes": False, "plain": True}
    # benchmark content: one changed option text
    rows = [json.loads(x) for x in bench.read_text().splitlines()]
    rows[3]["options"]["A"] += " (changed)"
    edited = tmp_path / "edited" / "benchmark.jsonl"
    edited.parent.mkdir()
    edited.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert _cells(settings, spec, edited, tmp_path / "e") == {"notes": False, "plain": False}


def test_the_cache_is_bypassed_when_disabled(
    tiny_model_dir: Path, tmp_path: Path, hyperhidrosis, bench: Path, monkeypatch
) -> None:
    settings = _settings(tiny_model_dir, hyperhidrosis)
    _cells(settings, hyperhidrosis.spec, bench, tmp_path / "1")
    monkeypatch.setenv(cache.ENV, "0")
    assert _cells(settings, hyperhidrosis.spec, bench, tmp_path / "2") == {
        "notes": False, "plain": False}
    assert cache.lookup("anything") is None
