"""Choosing distractors: close in length to the key, so option length never gives it away."""

from __future__ import annotations

import random
from collections.abc import Sequence


def pick_near(rng: random.Random, key: str, pool: Sequence[str], k: int = 3) -> list[str] | None:
    """``k`` distractors from ``pool`` close in length to ``key``, usually one longer.

    Returns None when the pool holds fewer than ``k`` texts other than the key (case-blind).
    """
    unique = {p.strip().lower(): p for p in sorted(pool, reverse=True)}
    unique.pop(key.strip().lower(), None)
    cands = sorted(unique.values())
    if len(cands) < k:
        return None
    cands.sort(key=lambda p: (abs(len(p) - len(key)), rng.random()))
    picked = rng.sample(cands[: max(k + 2, 5)], k)
    longer = [c for c in cands if len(c) > len(key) and c not in picked]
    if longer and rng.random() < 0.8 and all(len(p) <= len(key) for p in picked):
        picked[rng.randrange(k)] = longer[0]
    return picked
