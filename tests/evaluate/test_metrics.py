"""Wilson intervals and exact McNemar tests against hand-computed values."""

from __future__ import annotations

import math

import pytest

from raresupport.evaluate.base import Prediction
from raresupport.evaluate.metrics import (
    binom_two_sided_p,
    letter_distribution,
    mcnemar_test,
    summarize,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        (8, 10, 0.4902, 0.9433),  # p=.8: centre (.8+.19208)/1.38415, half .22657
        (0, 10, 0.0, 0.2775),  # 0 %: lower bound exactly 0, upper z^2/(n+z^2)
        (10, 10, 0.7225, 1.0),
        (50, 100, 0.4038, 0.5962),
    ],
)
def test_wilson_matches_hand_computed_values(k, n, lo, hi):
    got = wilson_interval(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-4)


def test_wilson_zero_upper_bound_is_z2_over_n_plus_z2():
    z2 = 1.959963984540054**2
    assert wilson_interval(0, 7)[1] == pytest.approx(z2 / (7 + z2))
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("b", "c", "p"),
    [
        (1, 9, 22 / 1024),  # 2 * (C(10,0) + C(10,1)) / 2^10
        (0, 5, 2 / 32),
        (3, 3, 1.0),
        (0, 0, 1.0),
        (2, 10, 2 * (1 + 12 + 66) / 4096),
    ],
)
def test_exact_binomial_two_sided_p(b, c, p):
    assert binom_two_sided_p(b, c) == pytest.approx(p)
    assert binom_two_sided_p(c, b) == pytest.approx(p)


def test_mcnemar_counts_discordant_pairs_on_shared_items_only():
    a = {"1": True, "2": True, "3": False, "4": False, "5": True, "only-a": True}
    b = {"1": True, "2": False, "3": True, "4": True, "5": True, "only-b": False}
    test = mcnemar_test(a, b)
    assert (test["n"], test["b"], test["c"]) == (5, 1, 2)
    assert test["p_value"] == pytest.approx(1.0)  # 2 * (1 + 3) / 8 capped at 1


def test_letter_distribution_counts_unparsed_last():
    assert letter_distribution(["B", None, "A", "B"]) == {"A": 1, "B": 2, "none": 1}
    assert list(letter_distribution(["C", None, "A"])) == ["A", "C", "none"]


def test_summarize_gives_the_metrics_json_block():
    preds = [
        Prediction("1", "diagnosis", "A", "A"),
        Prediction("2", "diagnosis", "B", "A"),
        Prediction("3", "treatment", "C", "C", extra={"variants": {"per_char": "A"}}),
        Prediction("4", "treatment", "D", None),
    ]
    block = summarize(preds)
    assert block["overall"] == 0.5 and block["n"] == 4
    assert block["overall_ci"] == pytest.approx(list(wilson_interval(2, 4)))
    assert block["by_task"]["diagnosis"] == {
        "acc": 0.5, "ci": list(wilson_interval(1, 2)), "n": 2,
    }  # fmt: skip
    assert block["letter_distribution"] == {"A": 2, "C": 1, "none": 1}
    assert block["parse_failures"] == 1
    assert block["correct"] == {"1": True, "2": False, "3": True, "4": False}
    assert block["variants"]["per_char"]["overall"] == 0.0
    assert not math.isnan(block["overall_ci"][0])
