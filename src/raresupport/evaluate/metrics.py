"""Accuracy with honest uncertainty: Wilson intervals, exact McNemar, letter distributions.

Benchmarks here have tens of items, so every accuracy carries a 95 % Wilson interval (it stays
inside [0, 1] and behaves at 0 % and 100 %), and baseline-vs-tuned differences are tested on
the *same* items with the exact McNemar test rather than by eyeballing two percentages.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from raresupport.evaluate.base import Prediction

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials ((0, 1) when n == 0)."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def binom_two_sided_p(b: int, c: int) -> float:
    """Exact two-sided binomial p-value of ``min(b, c)`` in ``b + c`` fair coin flips."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def mcnemar_test(
    correct_a: Mapping[str, bool], correct_b: Mapping[str, bool]
) -> dict[str, float | int]:
    """Exact McNemar test on the items both runs scored (keyed by item id).

    ``b``: items only A got right; ``c``: items only B got right. Items missing from either
    side are ignored and reported as ``n`` (the number compared).
    """
    shared = sorted(set(correct_a) & set(correct_b))
    b = sum(1 for i in shared if correct_a[i] and not correct_b[i])
    c = sum(1 for i in shared if correct_b[i] and not correct_a[i])
    return {"n": len(shared), "b": b, "c": c, "p_value": binom_two_sided_p(b, c)}


def accuracy(flags: Sequence[bool]) -> dict[str, Any]:
    """``{"acc", "ci", "n", "correct"}`` for a list of correctness flags."""
    k, n = sum(bool(f) for f in flags), len(flags)
    lo, hi = wilson_interval(k, n)
    return {"acc": k / n if n else 0.0, "ci": [lo, hi], "n": n, "correct": k}


def letter_distribution(preds: Iterable[str | None]) -> dict[str, int]:
    """Counts of predicted letters (``"none"`` for unparsed); a spike shows mode collapse."""
    counts = Counter("none" if p is None else p for p in preds)
    return {k: counts[k] for k in sorted(counts, key=lambda x: (x == "none", x))}


def summarize(predictions: Sequence[Prediction]) -> dict[str, Any]:
    """The per-method block of metrics.json.

    ``correct`` maps item id to correctness so reports can run McNemar from metrics alone.
    """
    overall = accuracy([p.correct for p in predictions])
    by_task: dict[str, list[bool]] = defaultdict(list)
    for p in predictions:
        by_task[p.task].append(p.correct)
    block: dict[str, Any] = {
        "n": overall["n"],
        "overall": overall["acc"],
        "overall_ci": overall["ci"],
        "by_task": {t: _task_block(flags) for t, flags in sorted(by_task.items())},
        "letter_distribution": letter_distribution(p.pred for p in predictions),
        "parse_failures": sum(1 for p in predictions if p.pred is None),
        "parse_failure_reasons": parse_failure_reasons(predictions),
        "correct": {p.id: p.correct for p in predictions},
    }
    variants = variant_blocks(predictions)
    if variants:
        block["variants"] = variants
    return block


def parse_failure_reasons(predictions: Sequence[Prediction]) -> dict[str, int]:
    """Unparsed predictions by reason (``truncated``, ``empty``, ``no letter``), most first.

    Only the ``generate`` rule parses text; a scorer that records no reason adds nothing.
    """
    reasons = Counter(
        p.extra["parse_failure"] for p in predictions
        if p.pred is None and isinstance(p.extra.get("parse_failure"), str)
    )
    return dict(reasons.most_common())


def _task_block(flags: Sequence[bool]) -> dict[str, Any]:
    acc = accuracy(flags)
    return {"acc": acc["acc"], "ci": acc["ci"], "n": acc["n"]}


def variant_blocks(predictions: Sequence[Prediction]) -> dict[str, Any]:
    """Accuracy of alternative decision rules a scorer recorded (e.g. loglik per character)."""
    names = sorted({v for p in predictions for v in p.extra.get("variants", {})})
    out = {}
    for name in names:
        flags = [p.extra.get("variants", {}).get(name) == p.answer for p in predictions]
        acc = accuracy(flags)
        by_task: dict[str, list[bool]] = defaultdict(list)
        for p, ok in zip(predictions, flags, strict=True):
            by_task[p.task].append(ok)
        out[name] = {
            "overall": acc["acc"], "overall_ci": acc["ci"],
            "by_task": {t: _task_block(f) for t, f in sorted(by_task.items())},
            "correct": {p.id: ok for p, ok in zip(predictions, flags, strict=True)},
        }  # fmt: skip
    return out


def answer_distribution(answers: Iterable[str]) -> dict[str, int]:
    """Counts of keyed letters: what a constant guesser would score is the max share."""
    counts = Counter(answers)
    return {k: counts[k] for k in sorted(counts)}
