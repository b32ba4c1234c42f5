"""How far reviewers agree: raw agreement and Cohen's kappa for every pair of reviewers.

On the items both reviewers decided (each reviewer's latest decision per item): the decision
(approve / correct / reject) with unweighted kappa, and each 1-5 rubric dimension with
quadratic-weighted kappa (a 4 against a 5 is a smaller disagreement than a 1 against a 5).
Kappa comes from scikit-learn's ``cohen_kappa_score``; it is undefined (None) when both
reviewers used one and the same label throughout.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from typing import Any

from raresupport.review.models import RUBRIC, Decision

SCALE = (1, 2, 3, 4, 5)  #: the rubric's ordinal scale


def kappa(
    a: Sequence[Any], b: Sequence[Any], weights: str | None = None,
    labels: Sequence[Any] | None = None,
) -> float | None:
    """Cohen's kappa of two label sequences (None when undefined, e.g. a single label).

    ``labels``: the ordered scale (needed for weighted kappa, whose weights are distances
    between label positions); default the sorted labels that occur.
    """
    from sklearn.metrics import cohen_kappa_score

    if not a or len(set(a) | set(b)) < 2:
        return None
    labels = list(labels) if labels is not None else sorted(set(a) | set(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(cohen_kappa_score(a, b, labels=labels, weights=weights))
    return None if math.isnan(value) else value


def raw_agreement(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Share of positions where the two sequences agree (None for none)."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a) if a else None


def _reviewer(d: Decision) -> str:
    return f"{d.reviewer_kind}:{d.reviewer_id}"


def pairwise_agreement(decisions: Sequence[Decision]) -> list[dict[str, Any]]:
    """One row per reviewer pair (sorted): shared items, agreement and kappa per dimension.

    ``decisions`` may hold several decisions per (reviewer, item); the last one counts.
    """
    last: dict[str, dict[str, Decision]] = {}
    for d in decisions:
        last.setdefault(_reviewer(d), {})[d.item_id] = d
    rows = []
    for ra, rb in itertools.combinations(sorted(last), 2):
        shared = sorted(set(last[ra]) & set(last[rb]))
        a = [last[ra][i] for i in shared]
        b = [last[rb][i] for i in shared]
        acts_a, acts_b = [d.action for d in a], [d.action for d in b]
        row: dict[str, Any] = {
            "reviewers": (ra, rb),
            "shared_items": len(shared),
            "decision": {"n": len(shared), "agreement": raw_agreement(acts_a, acts_b),
                         "kappa": kappa(acts_a, acts_b)},
        }  # fmt: skip
        for dim in RUBRIC:
            pairs = [(getattr(x.rubric, dim), getattr(y.rubric, dim)) for x, y in zip(a, b)]
            pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
            xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
            row[dim] = {"n": len(pairs), "agreement": raw_agreement(xs, ys),
                        "kappa": kappa(xs, ys, "quadratic", SCALE)}  # fmt: skip
        rows.append(row)
    return rows
