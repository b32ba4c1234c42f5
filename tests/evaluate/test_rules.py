"""Each scoring rule on a hand-built score table gives the pick worked out by hand."""

from __future__ import annotations

import math

import pytest

from raresupport.evaluate import rules
from raresupport.evaluate.base import best_letter

log = math.log


def test_pmi_prefers_the_option_the_question_raises_most():
    cond = {"A": -10.0, "B": -12.0, "C": -11.0}  # loglik picks A
    uncond = {"A": -4.0, "B": -9.0, "C": -5.0}  # A is likely whatever the question
    assert rules.pmi(cond, uncond) == {"A": -6.0, "B": -3.0, "C": -6.0}
    assert best_letter(cond) == "A" and best_letter(rules.pmi(cond, uncond)) == "B"


def test_calibrated_divides_out_the_content_free_prior():
    scores = {"A": log(0.5), "B": log(0.3), "C": log(0.2)}  # p = .5 .3 .2: loglik picks A
    cf = [{"A": log(0.7), "B": log(0.1), "C": log(0.2)},
          {"A": log(0.5), "B": log(0.3), "C": log(0.2)}]  # fmt: skip
    got = rules.calibrated(scores, cf)  # p_cf = .6 .2 .2 -> p / p_cf = .833 1.5 1.0
    assert got == pytest.approx({"A": log(0.5 / 0.6), "B": log(0.3 / 0.2), "C": log(1.0)})
    assert best_letter(got) == "B"
    assert rules.calibrated(scores, []) == pytest.approx(scores)  # already log-probabilities


def test_cad_amplifies_what_the_notes_add():
    with_notes = {"A": -1.0, "B": -1.2}  # the notes raise B, not enough for loglik to pick it
    without = {"A": -0.5, "B": -2.0}
    got = rules.cad(with_notes, without, alpha=0.5)  # 1.5 w - 0.5 wo
    assert got == pytest.approx({"A": -1.25, "B": -0.8})
    assert best_letter(with_notes) == "A" and best_letter(got) == "B"


@pytest.mark.parametrize("alpha", [0.0, 0.5, 2.0])
def test_cad_without_contrast_is_loglik(alpha):
    table = {"A": -1.0, "B": -1.2, "C": -3.0}
    assert rules.cad(table, {"A": 9.0, "B": 9.0, "C": 9.0}, 0.0) == table  # alpha 0
    assert rules.cad(table, table, alpha) == pytest.approx(table)  # no contrast
    assert rules.adacad(table, table) == pytest.approx(table)  # JSD 0 -> alpha 0


def test_adacad_sets_alpha_from_the_jensen_shannon_divergence():
    with_notes = {"A": log(0.6), "B": log(0.4)}
    without = {"A": log(0.95), "B": log(0.05)}
    m = (0.775, 0.225)
    by_hand = 0.5 * (0.6 * math.log2(0.6 / m[0]) + 0.4 * math.log2(0.4 / m[1])) + 0.5 * (
        0.95 * math.log2(0.95 / m[0]) + 0.05 * math.log2(0.05 / m[1]))  # fmt: skip
    assert rules.adacad_alpha(with_notes, without) == pytest.approx(by_hand)
    assert by_hand == pytest.approx(0.1405, abs=1e-3)
    # fixed alpha 0.5 over-corrects: A-B = 1.5 ln(.6/.4) - .5 ln(.95/.05) = -0.864 -> B;
    # the small divergence keeps the with-notes pick: 1.14 ln 1.5 - .14 ln 19 = +0.049 -> A
    assert best_letter(rules.cad(with_notes, without, 0.5)) == "B"
    assert best_letter(rules.adacad(with_notes, without)) == "A"


def test_jsd_is_zero_for_equal_and_one_bit_for_disjoint_distributions():
    assert rules.jsd({"A": 0.5, "B": 0.5}, {"A": 0.5, "B": 0.5}) == 0.0
    assert rules.jsd({"A": 1.0, "B": 0.0}, {"A": 0.0, "B": 1.0}) == pytest.approx(1.0)


def test_replug_mixes_notes_by_retrieval_weight():
    per_note = [{"A": log(0.1), "B": log(0.9)}, {"A": log(0.7), "B": log(0.3)}]
    equal = rules.replug(per_note, [0.5, 0.5])  # A .4, B .6
    assert equal == pytest.approx({"A": log(0.4), "B": log(0.6)})
    weights = rules.replug_weights([0.0, log(3.0)])  # softmax -> .25 .75
    assert weights == pytest.approx([0.25, 0.75])
    mixed = rules.replug(per_note, weights)  # A .025 + .525 = .55, B .225 + .225 = .45
    assert mixed == pytest.approx({"A": log(0.55), "B": log(0.45)})
    assert best_letter(equal) == "B" and best_letter(mixed) == "A"
    assert rules.replug(per_note[:1], [1.0]) == pytest.approx(per_note[0])  # one note: loglik
