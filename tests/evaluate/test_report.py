"""The baseline-vs-tuned report: all methods shown, headline fixed, best-baseline comparison."""

from __future__ import annotations

import json

import pytest

from raresupport.evaluate.base import Prediction
from raresupport.evaluate.metrics import summarize
from raresupport.evaluate.report import baseline_best_method, compare, write_report


def _metrics(correct_by_method: dict[str, list[bool]]) -> dict:
    by_method = {}
    for method, flags in correct_by_method.items():
        preds = [
            Prediction(f"i{n}", "diagnosis" if n % 2 else "treatment", "A", "A" if ok else "B")
            for n, ok in enumerate(flags)
        ]
        by_method[method] = summarize(preds)
    n = len(next(iter(correct_by_method.values())))
    return {"benchmarks": {"hh": {"n": n, "answer_distribution": {"A": n},
                                  "by_method": by_method}}}  # fmt: skip


BASE = _metrics({"letter": [True] * 6 + [False] * 14, "loglik": [True] * 9 + [False] * 11})
TUNED = _metrics({"letter": [True] * 15 + [False] * 5, "loglik": [True] * 12 + [False] * 8})


def test_tuned_headline_is_compared_with_the_baselines_best_method():
    assert baseline_best_method(BASE, "hh", "letter") == "loglik"
    comp = compare(BASE, TUNED, "letter")["hh"]
    assert comp["headline"]["delta"] == pytest.approx(0.45)
    best = comp["tuned_headline_vs_baseline_best"]
    assert best["baseline"] == pytest.approx(0.45) and best["delta"] == pytest.approx(0.30)
    # items 9..14 right only for tuned letter: b=0, c=6 -> p = 2 / 2^6
    assert best["mcnemar"] == {"n": 20, "b": 0, "c": 6, "p_value": pytest.approx(2 / 64)}
    assert set(comp["by_method"]) == {"letter", "loglik"}


def test_write_report_writes_every_artifact(tmp_path):
    paths = write_report(tmp_path, BASE, TUNED, "letter", extra={"model": "tiny"})
    for key in ("metrics", "markdown", "html", "accuracy_chart", "letters_chart"):
        assert paths[key].is_file() and paths[key].stat().st_size > 0
    assert paths["accuracy_chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = paths["markdown"].read_text()
    assert "Headline method: **letter**, fixed before evaluation" in md
    assert "BASELINE'S BEST method" in md and "`loglik`" in md
    assert "loglik" in md.split("## hh")[1]  # every method's figures, not only the headline
    assert "(accuracy_by_task.png)" in md
    html = paths["html"].read_text()
    assert "data:image/png;base64," in html and "<table>" in html
    saved = json.loads(paths["metrics"].read_text())
    assert saved["headline_method"] == "letter" and saved["extra"] == {"model": "tiny"}
    assert saved["baseline"] == BASE and saved["comparison"]["hh"]["baseline_best_method"]


def test_report_tolerates_a_method_missing_on_one_side(tmp_path):
    tuned = _metrics({"letter": [True] * 20})
    paths = write_report(tmp_path, BASE, tuned, "letter")
    comp = json.loads(paths["metrics"].read_text())["comparison"]["hh"]
    assert comp["by_method"]["loglik"] is None
    assert "| loglik | - |" in paths["markdown"].read_text()
