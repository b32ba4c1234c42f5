"""Generate -> validate -> rebalance -> split -> write: one dataset version in a folder.

Output: ``train.jsonl``, ``val.jsonl`` (stratified by task), ``val_people.jsonl`` (the people
split: patient-voiced questions and clinician vignettes with reworded options,
:mod:`raresupport.generate.grounded.people`), ``rejects.jsonl`` and ``manifest.json``; each
JSONL loads with ``datasets.load_dataset("json", data_files=...)``.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from raresupport.data.benchmark import MCQItem, load_benchmark
from raresupport.data.jsonl import write_json, write_jsonl
from raresupport.data.vignette import TASKS, Task, Vignette
from raresupport.errors import GenerationError
from raresupport.generate.base import GenerationResult, Generator, Reject
from raresupport.generate.validate import (
    ValidationConfig,
    key_longest_fraction,
    rebalance_letters,
    validate_vignettes,
)


class Manifest(BaseModel):
    """What was made, how, and what it cost; never holds a secret."""

    disease: str
    generator: str
    model: str | None = None
    seed: int
    n_requested: int
    rounds: int
    counts: dict[str, Any]
    events: dict[str, int] = Field(default_factory=dict)
    usage: dict[str, int] = Field(default_factory=dict)
    reject_reasons: dict[str, int] = Field(default_factory=dict)
    template_hashes: dict[str, str] = Field(default_factory=dict)
    key_longest_fraction: float
    avoid: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))


def _round_seed(seed: int, r: int) -> int:
    return seed if r == 0 else seed * 1_000 + 7_919 * r


def _merge_counts(into: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        into[k] = into.get(k, 0) + v


def _trim_balanced(items: list[Vignette], n: int, tasks: Sequence[Task]) -> list[Vignette]:
    """Keep ``n`` items spread evenly over tasks, in generation order."""
    by_task: dict[str, list[Vignette]] = defaultdict(list)
    for v in items:
        by_task[v.task].append(v)
    out: list[Vignette] = []
    i = 0
    while len(out) < n and any(i < len(by_task[t]) for t in tasks):
        for t in tasks:
            if i < len(by_task[t]) and len(out) < n:
                out.append(by_task[t][i])
        i += 1
    return out


def _split(items: list[Vignette], val_fraction: float, seed: int):
    rng = random.Random(seed)
    train, val = [], []
    by_task: dict[str, list[Vignette]] = defaultdict(list)
    for v in items:
        by_task[v.task].append(v)
    for task in sorted(by_task):
        group = by_task[task][:]
        rng.shuffle(group)
        k = round(len(group) * val_fraction)
        if val_fraction > 0 and len(group) > 1:
            k = max(k, 1)
        val += group[:k]
        train += group[k:]
    return train, val


def generate_dataset(
    disease: Any,
    generator: Generator,
    n: int,
    out_dir: str | Path,
    *,
    tasks: Sequence[Task] = TASKS,
    seed: int = 0,
    avoid: Sequence[str | Path] = (),
    val_fraction: float = 0.1,
    oversample: float | None = None,
    max_rounds: int = 6,
    validation: ValidationConfig | None = None,
    people_val: int = 0,
) -> Manifest:
    """Make ``n`` validated vignettes for ``disease`` and write them to ``out_dir``.

    The disease's own benchmark is always in ``avoid``: no training item may be near-identical
    to an evaluation question. Rounds top up what validation removed, each with a new seed; a
    round in which the generator produced no item at all ends the rounds (what failed every
    item of one round fails the next one too). ``people_val`` > 0 also writes that many people
    split items (built from the spec whatever the generator, validated against the benchmark
    and the accepted items) to ``val_people.jsonl``. Fewer accepted items than ``n`` is reported in
    the manifest (``counts.accepted`` < ``n_requested``, see :func:`shortfall`).

    Raises:
        GenerationError: no item was accepted. ``rejects.jsonl`` is written first (to see
            why); ``train.jsonl``, ``val.jsonl`` and ``manifest.json`` are not (a resumed
            ``run`` must not take the step for done).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spec = disease.spec
    avoid_paths = [Path(p) for p in avoid]
    if disease.benchmark_path and disease.benchmark_path not in avoid_paths:
        avoid_paths.insert(0, disease.benchmark_path)
    bench: list[MCQItem] = [item for p in avoid_paths for item in load_benchmark(p)]
    # a generator may ask for more items per round than needed (``oversample`` attribute)
    factor = oversample if oversample is not None else getattr(generator, "oversample", 1.0)

    accepted: list[Vignette] = []
    rejects: list[Reject] = []
    total = GenerationResult()
    rounds = 0
    while len(accepted) < n and rounds < max_rounds:
        need = n - len(accepted)
        ask = math.ceil(need * factor) + (0 if factor == 1.0 else len(tasks))
        result = generator.generate(disease, ask, tasks, _round_seed(seed, rounds))
        rounds += 1
        ok, bad = validate_vignettes(
            result.vignettes, spec, avoid=bench, accepted=accepted, config=validation
        )
        accepted += ok
        rejects += result.rejects + bad
        _merge_counts(total.events, result.events)
        _merge_counts(total.usage, result.usage)
        total.template_hashes.update(result.template_hashes)
        total.model = total.model or result.model
        if not result.vignettes:
            break

    if not accepted:
        write_jsonl(out / "rejects.jsonl", rejects)
        raise GenerationError(f"{out}: " + no_items_message(n, rejects, out / "rejects.jsonl"))

    final = rebalance_letters(_trim_balanced(accepted, n, tasks), seed)
    final = [v.model_copy(update={"status": "accepted"}) for v in final]
    train, val = _split(final, val_fraction, seed)
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "val.jsonl", val)
    people: list[Vignette] = []
    if people_val:
        from raresupport.generate.grounded.people import people_items

        drawn, built = people_items(spec, people_val, seed)
        people, bad = validate_vignettes(drawn, spec, avoid=bench, accepted=final,
                                         config=validation)
        rejects += bad
        _merge_counts(total.events, dict(built))
        write_jsonl(out / "val_people.jsonl", people)
    write_jsonl(out / "rejects.jsonl", rejects)
    manifest = Manifest(
        disease=spec.id,
        generator=generator.name,
        model=total.model,
        seed=seed,
        n_requested=n,
        rounds=rounds,
        counts={
            "accepted": len(final),
            "train": len(train),
            "val": len(val),
            "val_people": len(people),
            "rejects": len(rejects),
            "by_task": dict(Counter(v.task for v in final)),
            "by_letter": dict(sorted(Counter(v.answer for v in final).items())),
        },
        events=total.events,
        usage=total.usage,
        reject_reasons=dict(Counter(reason_kind(r) for r in rejects).most_common()),
        template_hashes=total.template_hashes,
        key_longest_fraction=round(key_longest_fraction(final), 4),
        avoid=[str(p) for p in avoid_paths],
    )
    write_json(out / "manifest.json", manifest.model_dump(mode="json"))
    return manifest


def reason_kind(reject: Reject) -> str:
    """The reason without its per-item detail in parentheses (the manifest's grouping)."""
    return reject.reason.split(" (")[0]


def _failure_kind(reject: Reject) -> str:
    """A teacher reject's event (``truncated``, ``http_5xx``, ...); else :func:`reason_kind`."""
    kind = reason_kind(reject)
    return kind.split(":")[0] if reject.stage == "generate" else kind


def no_items_message(n: int, rejects: Sequence[Reject], where: Path) -> str:
    """One line: 0 of n accepted, the most common reject reason with its count and an example."""
    if not rejects:
        return f"0 of {n} requested items accepted and nothing rejected"
    kind, count = Counter(_failure_kind(r) for r in rejects).most_common(1)[0]
    example = next(r for r in rejects if _failure_kind(r) == kind)
    item = example.item.get("id") or example.item.get("index", "?")
    return (
        f"0 of {n} requested items accepted; most common reject reason ({count} of "
        f"{len(rejects)}): {kind}; e.g. item {item}: {example.reason} (all in {where})"
    )


def shortfall(manifest: Manifest) -> str | None:
    """A one-line warning when fewer items were accepted than requested, else None."""
    accepted = manifest.counts.get("accepted", 0)
    if accepted >= manifest.n_requested:
        return None
    top = next(iter(manifest.reject_reasons), None)
    why = f"; most common reject reason: {top}" if top else ""
    return f"only {accepted} of {manifest.n_requested} requested items accepted{why}"
