"""Validation between generation and training: keep only items worth learning from.

Checks: facts exist in the spec; options of similar length; a treatment key is not
contraindicated by the case's history; no exact or near duplicates (word
shingles, Jaccard); no leakage from any benchmark (near-identical questions); then answer letters
rebalanced by permuting options. Every rejected item is kept with its reason.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field

from raresupport.data.benchmark import MCQItem
from raresupport.data.vignette import Vignette
from raresupport.generate.base import Reject
from raresupport.spec import DiseaseSpec
from raresupport.spec.checks import asks_to_avoid, contraindications_in

_WORD = re.compile(r"[a-z0-9]+")


class ValidationConfig(BaseModel):
    """Thresholds; defaults tuned so paraphrases pass and copies don't."""

    near_duplicate: float = Field(default=0.9, description="Jaccard of 3-word shingles.")
    leakage: float = Field(default=0.6, description="Jaccard vs any benchmark question.")
    min_length_ratio: float = 0.33
    max_length_ratio: float = 3.0


def shingles(text: str, k: int = 3) -> frozenset[str]:
    words = _WORD.findall(text.lower())
    if len(words) < k:
        return frozenset([" ".join(words)])
    return frozenset(" ".join(words[i : i + k]) for i in range(len(words) - k + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _item_text(v: Vignette) -> str:
    return f"{v.case} {v.question} " + " ".join(sorted(v.options.values()))


def _length_problem(v: Vignette, cfg: ValidationConfig) -> str | None:
    key = len(v.options[v.answer])
    others = [len(t) for k, t in v.options.items() if k != v.answer]
    ratio = key / (sum(others) / len(others))
    if not cfg.min_length_ratio <= ratio <= cfg.max_length_ratio:
        return f"key length is {ratio:.2f}x the mean distractor length"
    return None


def _contraindicated_key(v: Vignette, spec: DiseaseSpec) -> str | None:
    """A treatment key that the case's own history rules out (unless asked what to avoid)."""
    if "avoid" in v.tags or asks_to_avoid(v.question):
        return None
    found = contraindications_in(spec, v.options[v.answer], v.case)
    return f"key is contraindicated by the history ({', '.join(found)})" if found else None


def validate_vignettes(
    items: Iterable[Vignette],
    spec: DiseaseSpec,
    *,
    avoid: Sequence[MCQItem] = (),
    accepted: Sequence[Vignette] = (),
    config: ValidationConfig | None = None,
) -> tuple[list[Vignette], list[Reject]]:
    """Split ``items`` into accepted and rejected (with reasons), given ``accepted`` ones."""
    cfg = config or ValidationConfig()
    fact_ids = spec.fact_ids
    bench = [(b.id, shingles(b.question)) for b in avoid]
    kept_sh = [shingles(_item_text(v)) for v in accepted]
    kept_exact = {_item_text(v).lower() for v in accepted}
    ok: list[Vignette] = []
    rejects: list[Reject] = []

    def reject(v: Vignette, reason: str) -> None:
        rejects.append(Reject(stage="validate", reason=reason, item=v.model_dump(mode="json")))

    for v in items:
        unknown = [f for f in v.fact_ids if f not in fact_ids]
        if unknown:
            reject(v, f"unknown fact ids {unknown}")
            continue
        if v.disease != spec.id:
            reject(v, f"disease {v.disease!r} is not {spec.id!r}")
            continue
        if problem := _length_problem(v, cfg):
            reject(v, problem)
            continue
        if problem := _contraindicated_key(v, spec):
            reject(v, problem)
            continue
        text = _item_text(v)
        if text.lower() in kept_exact:
            reject(v, "exact duplicate")
            continue
        sh = shingles(text)
        dup = max((jaccard(sh, o) for o in kept_sh), default=0.0)
        if dup >= cfg.near_duplicate:
            reject(v, f"near duplicate (jaccard {dup:.2f})")
            continue
        q = shingles(f"{v.case} {v.question}")
        leak = max(((jaccard(q, b), bid) for bid, b in bench), default=(0.0, ""))
        if leak[0] >= cfg.leakage:
            reject(v, f"too close to benchmark item {leak[1]} (jaccard {leak[0]:.2f})")
            continue
        kept_exact.add(text.lower())
        kept_sh.append(sh)
        ok.append(v)
    return ok, rejects


def rebalance_letters(items: Sequence[Vignette], seed: int = 0) -> list[Vignette]:
    """Permute options so each task's keys cycle evenly over the letters (20-30 % each)."""
    rng = random.Random(seed)
    out: list[Vignette] = []
    per_task: Counter[str] = Counter()
    cycles: dict[str, list[str]] = {}
    for v in items:
        letters = sorted(v.options)
        if per_task[v.task] % len(letters) == 0:
            cycle = letters[:]
            rng.shuffle(cycle)
            cycles[v.task] = cycle
        target = cycles[v.task][per_task[v.task] % len(letters)]
        per_task[v.task] += 1
        others = [t for k, t in sorted(v.options.items()) if k != v.answer]
        rng.shuffle(others)
        texts = others[:]
        texts.insert(letters.index(target), v.options[v.answer])
        out.append(v.model_copy(update={"options": dict(zip(letters, texts)), "answer": target}))
    return out


def key_longest_fraction(items: Sequence[Vignette | MCQItem]) -> float:
    """Share of items whose key is strictly the longest option (should stay near 1/k)."""
    if not items:
        return 0.0
    n = 0
    for v in items:
        key = len(v.options[v.answer])
        n += all(key > len(t) for k, t in v.options.items() if k != v.answer)
    return n / len(items)
