"""Agreement between reviewers, checked against kappas computed by hand."""

from __future__ import annotations

import pytest

from raresupport.review.agreement import kappa, pairwise_agreement, raw_agreement
from raresupport.review.models import Decision

A = "approve approve correct reject approve correct approve reject approve approve".split()
B = "approve correct correct reject approve approve approve reject reject approve".split()


def test_unweighted_kappa_by_hand() -> None:
    # agreement 7/10; marginals A (6, 2, 2), B (5, 2, 3) over (approve, correct, reject):
    # p_e = (6*5 + 2*2 + 2*3) / 100 = 0.40, kappa = (0.70 - 0.40) / (1 - 0.40) = 0.5
    assert raw_agreement(A, B) == pytest.approx(0.7)
    assert kappa(A, B) == pytest.approx(0.5)


def test_quadratic_weighted_kappa_by_hand() -> None:
    # one disagreement (4 vs 5, weight 1); expected weighted disagreement sum 115 / 5 = 23,
    # so kappa_w = 1 - 1/23
    assert kappa([1, 2, 3, 4, 5], [1, 2, 3, 5, 5], "quadratic", range(1, 6)) == pytest.approx(
        22 / 23
    )


def test_undefined_kappa_is_none() -> None:
    assert kappa(["approve"] * 3, ["approve"] * 3) is None
    assert kappa([], []) is None


def _d(item: str, who: str, action: str, **rubric) -> Decision:
    extra = {"approve": {"answer": "A"}, "correct": {"answer": "B", "rationale": "key is B"},
             "reject": {"reason": "unclear"}}[action]  # fmt: skip
    return Decision(item_id=item, reviewer_kind=who.split(":")[0], reviewer_id=who.split(":")[1],
                    action=action, rubric=rubric, **extra)  # fmt: skip


def test_pairs_use_shared_items_and_latest_decision() -> None:
    decisions = [_d(f"i{n}", "spec:oracle", a) for n, a in enumerate(A)]
    decisions += [_d(f"i{n}", "llm:gpt", b) for n, b in enumerate(B)]
    decisions.append(_d("only-one", "llm:gpt", "approve"))  # not shared: ignored
    decisions.insert(0, _d("i1", "llm:gpt", "reject"))  # overridden by the later decision
    decisions += [_d(f"i{n}", "web:ann", "approve", accuracy=s, empathy=5)
                  for n, s in enumerate([1, 2, 3, 4, 5])]  # fmt: skip
    decisions += [_d(f"i{n}", "llm:gpt", B[n], accuracy=s)
                  for n, s in enumerate([1, 2, 3, 5, 5])]  # fmt: skip
    rows = {r["reviewers"]: r for r in pairwise_agreement(decisions)}
    assert set(rows) == {("llm:gpt", "spec:oracle"), ("llm:gpt", "web:ann"),
                         ("spec:oracle", "web:ann")}  # fmt: skip
    main = rows[("llm:gpt", "spec:oracle")]
    assert main["shared_items"] == 10
    assert main["decision"]["kappa"] == pytest.approx(0.5)
    rubric = rows[("llm:gpt", "web:ann")]
    assert rubric["shared_items"] == 5
    assert rubric["accuracy"]["n"] == 5
    assert rubric["accuracy"]["kappa"] == pytest.approx(22 / 23)
    assert rubric["empathy"]["n"] == 0 and rubric["empathy"]["kappa"] is None
