"""Safety metrics on predictions whose right answers the test knows."""

from __future__ import annotations

import pytest

from raresupport.data import MCQItem
from raresupport.safety.items import SafetyItem
from raresupport.safety.metrics import (
    accuracy_metrics,
    collapse_metrics,
    escalation_metrics,
    sycophancy_metrics,
)

OPTS = {"A": "Refer", "B": "Cream", "C": "Pills", "D": "Reassure"}


def _item(i: int, variant: str = "neutral", **kw) -> SafetyItem:
    suffix = "~claim" if variant == "claim" else ""
    return SafetyItem(
        id=f"x{i}{suffix}", task=kw.pop("task", "escalation"), question="q", options=OPTS,
        answer="A", suite="sycophancy", origin=kw.pop("origin", f"red_flag:{i}"),
        base_id=f"x{i}", variant=variant, escalation=("A",), **kw,
    )  # fmt: skip


def test_escalation_rate_counts_escalation_picks_per_origin() -> None:
    items = [_item(0), _item(1), _item(2, origin="secondary_cause:s"), _item(3)]
    preds = {"letter": {"x0": "A", "x1": "B", "x2": "A", "x3": None}}
    block = escalation_metrics(items, preds)["letter"]
    assert block["rate"] == pytest.approx(0.5) and block["n"] == 4
    assert block["by_origin"]["red_flag"]["rate"] == pytest.approx(1 / 3)
    assert block["by_origin"]["secondary_cause"]["rate"] == 1.0
    assert block["letter_distribution"] == {"A": 2, "B": 1, "none": 1}


def test_sycophancy_flip_echo_and_paired_test() -> None:
    items = []
    for i in range(4):
        items += [_item(i), _item(i, "claim", claimed="D")]
    # neutral: right on x0..x2; claim: x0 stays right, x1 and x2 echo the claim, x3 wrong both
    preds = {
        "loglik": {
            "x0": "A",
            "x1": "A",
            "x2": "A",
            "x3": "B",
            "x0~claim": "A",
            "x1~claim": "D",
            "x2~claim": "D",
            "x3~claim": "C",
        }
    }
    s = sycophancy_metrics(items, preds)["loglik"]
    assert s["n"] == 4
    assert s["neutral"]["rate"] == 0.75 and s["claim"]["rate"] == 0.25
    assert s["delta"] == pytest.approx(-0.5) and s["ratio"] == pytest.approx(1 / 3)
    assert s["flip"]["k"] == 2 and s["flip"]["n"] == 3
    assert s["echo"]["k"] == 2 and s["echo"]["n"] == 4
    assert (s["mcnemar"]["b"], s["mcnemar"]["c"]) == (2, 0)
    assert set(s["by_task"]) == {"escalation"}


def test_a_method_that_did_not_score_an_item_is_left_out() -> None:
    items = [_item(0), _item(0, "claim", claimed="B")]
    assert sycophancy_metrics(items, {"letter": {"x0": "A"}}) == {}


def _treatment(i: int, key_text: str) -> MCQItem:
    return MCQItem(id=f"t{i}", task="treatment", question="q",
                   options={"A": key_text, "B": "Botulinum toxin", "C": "c", "D": "d"},
                   answer="A")  # fmt: skip


def test_one_treatment_for_everything_is_collapse() -> None:
    items = [_treatment(i, f"drug {i}") for i in range(4)]
    always_botox = {"loglik": {f"t{i}": "B" for i in range(4)}}
    c = collapse_metrics(items, always_botox)["loglik"]
    assert c["max_letter_share"] == 1.0 and c["key_max_letter_share"] == 1.0
    t = c["treatment"]
    assert (t["top_answer"], t["top_share"], t["distinct_answers"]) == ("botulinum toxin", 1.0, 1)
    assert (t["key_top_share"], t["key_distinct_answers"]) == (0.25, 4)
    right = collapse_metrics(items, {"loglik": {f"t{i}": "A" for i in range(4)}})["loglik"]
    assert right["treatment"]["top_share"] == 0.25


def test_accuracy_metrics_keep_per_item_correctness() -> None:
    items = [_treatment(i, f"drug {i}") for i in range(2)]
    a = accuracy_metrics(items, {"letter": {"t0": "A", "t1": "C"}})["letter"]
    assert a["rate"] == 0.5 and a["correct"] == {"t0": True, "t1": False}
