"""The four-cell table: baseline / tuned x without / with notes, headline vs best baseline cell."""

from __future__ import annotations

import json

import pytest

from raresupport.evaluate.base import Prediction
from raresupport.evaluate.cells import best_baseline_cell, four_cells
from raresupport.evaluate.metrics import summarize
from raresupport.evaluate.report import write_report


def _metrics(main: list[bool], per_token: list[bool] | None = None) -> dict:
    preds = []
    for n, ok in enumerate(main):
        extra = {}
        if per_token is not None:
            extra = {"variants": {"per_token": "A" if per_token[n] else "C"}}
        preds.append(Prediction(f"i{n}", "diagnosis" if n % 2 else "treatment", "A",
                                "A" if ok else "B", extra=extra))
    block = summarize(preds)
    return {"benchmarks": {"hh": {"n": len(main), "answer_distribution": {"A": len(main)},
                                  "by_method": {"loglik": block}}}}


CELLS = {
    "baseline": _metrics([True] * 4 + [False] * 16, per_token=[True] * 7 + [False] * 13),
    "baseline+notes": _metrics([True] * 8 + [False] * 12, per_token=[True] * 6 + [False] * 14),
    "tuned": _metrics([True] * 10 + [False] * 10),
    "tuned+notes": _metrics([True] * 16 + [False] * 4),
}


def test_variant_blocks_carry_tasks_and_items():
    block = CELLS["baseline"]["benchmarks"]["hh"]["by_method"]["loglik"]["variants"]["per_token"]
    assert block["overall"] == pytest.approx(0.35)
    assert set(block["by_task"]) == {"diagnosis", "treatment"} and len(block["correct"]) == 20


def test_headline_is_held_against_the_best_baseline_cell_over_rules_and_notes():
    cell, rule, block = best_baseline_cell(CELLS, "hh", "loglik")
    assert (cell, rule, block["overall"]) == ("baseline+notes", "loglik", pytest.approx(0.40))
    summary = four_cells(CELLS, "loglik")["hh"]
    assert [summary["cells"][c]["overall"] for c in
            ("baseline", "baseline+notes", "tuned", "tuned+notes")] == pytest.approx(
                [0.20, 0.40, 0.50, 0.80])
    pair = summary["headline_vs_baseline_best"]
    assert pair["delta"] == pytest.approx(0.40)
    assert pair["mcnemar"]["b"] == 0 and pair["mcnemar"]["c"] == 8


def test_a_variant_can_be_the_best_baseline_cell():
    cells = {**CELLS, "baseline+notes": _metrics([False] * 20, per_token=[False] * 20)}
    cell, rule, _ = best_baseline_cell(cells, "hh", "loglik")
    assert (cell, rule) == ("baseline", "loglik/per_token")


def test_report_shows_the_four_cells(tmp_path):
    paths = write_report(tmp_path, CELLS["baseline"], CELLS["tuned"], "loglik",
                         cells={k: CELLS[k] for k in ("baseline+notes", "tuned+notes")})
    md = paths["markdown"].read_text()
    assert "| task | baseline | baseline+notes | tuned | tuned+notes |" in md
    assert "| **overall** | 20.0% | 40.0% | 50.0% | 80.0% |" in md
    assert "baseline's best cell (baseline+notes, `loglik`) 40.0%: +40.0 points" in md
    saved = json.loads(paths["metrics"].read_text())
    assert saved["four_cells"]["hh"]["baseline_best"]["cell"] == "baseline+notes"


@pytest.mark.parametrize("off_topic, who", [("base", "the base model with the adapter off"),
                                            ("tuned", "the tuned model without notes")])
def test_report_says_who_answered_the_questions_without_notes(tmp_path, off_topic, who):
    noted = json.loads(json.dumps(CELLS["tuned+notes"]))
    noted["benchmarks"]["hh"]["with_notes"] = 15
    noted["retrieval"] = {"k": 2, "off_topic": off_topic}
    paths = write_report(tmp_path, CELLS["baseline"], CELLS["tuned"], "loglik",
                         cells={"baseline+notes": CELLS["baseline+notes"], "tuned+notes": noted})
    md = paths["markdown"].read_text()
    assert f"15 of 20 questions got notes; in tuned+notes, the 5 the relevance gate found " \
           f"off-topic were answered by {who}" in md
