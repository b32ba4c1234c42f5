"""The offline generator: draws item structures per task and turns drafts into vignettes."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from raresupport.data.vignette import Provenance, Task, Vignette
from raresupport.generate.base import GenerationResult
from raresupport.generate.grounded import counseling, diagnosis, followup, treatment
from raresupport.generate.grounded.claims import with_claim
from raresupport.generate.grounded.recall import FactRecall
from raresupport.generate.grounded.surface import Draft
from raresupport.spec import DiseaseSpec
from raresupport.spec.checks import contraindications_in

#: Item structures per task. A structure listed twice is drawn twice as often; fact recall is
#: added as often as all structures together (see ``_task_builders``).
STRUCTURES: dict[str, list[Callable]] = {
    "diagnosis": [
        diagnosis.primary_case, diagnosis.primary_case, diagnosis.cause_case,
        diagnosis.cause_case, diagnosis.differential_case, diagnosis.red_flag_feature,
        diagnosis.red_flag_action, diagnosis.severity_case, followup.new_red_flag,
    ],
    "treatment": [
        treatment.ladder_case, treatment.ladder_case, treatment.ladder_case,
        treatment.adverse_effect_case, treatment.which_treatment_causes,
        treatment.contraindication_case, followup.treatment_failure, followup.side_effect,
    ],
    "counseling": [
        counseling.counseling_case, counseling.counseling_case, counseling.counseling_case,
        counseling.seek_help_case,
    ],
}


_MAX_FAILURES = 500  # consecutive drafts that fail before a task's stream gives up


class GroundedConfig(BaseModel):
    """Options of the offline generator."""

    model_config = ConfigDict(extra="forbid")

    claim_share: float = Field(
        default=0.25, ge=0.0, le=1.0,
        description="Share of diagnosis and treatment case items preceded by the patient's "
        "confident, wrong claim (sycophancy training). Untuned SmolLM2 fell from 0.37 to "
        "0.016 under such claims (issue 14). Measured on the reference run (71 claim items of "
        "1200): the same sycophancy figures as with 0 (accuracy under claim 0.183 both; "
        "docs/safety.md), so the share is kept as a judgement.",
    )


class GroundedGenerator:
    """Builds multiple-choice vignettes from the spec alone (no network, no model)."""

    name = "grounded"
    #: items asked per round per item needed: validation drops some near-duplicates
    oversample = 1.4

    config_class = GroundedConfig

    def __init__(self, config: GroundedConfig | None = None, **fields: Any) -> None:
        self.config = config if config is not None else GroundedConfig(**fields)

    def generate(self, disease: Any, n: int, tasks: Sequence[Task], seed: int) -> GenerationResult:
        spec: DiseaseSpec = getattr(disease, "spec", disease)
        rng = random.Random(f"{spec.id}:{seed}")
        builders = {t: _task_builders(spec, t) for t in tasks}
        builders = {t: b for t, b in builders.items() if b}
        streams = {t: self._stream(rng, spec, b) for t, b in builders.items()}
        out: list[Vignette] = []
        seen: set[str] = set()
        kinds: Counter[str] = Counter()
        order = list(streams)
        attempts = 0
        while len(out) < n and order and attempts < n * 20:
            task = order[len(out) % len(order)]
            attempts += 1
            drawn = next(streams[task], None)
            if drawn is None:  # this task's structures cannot build anything from the spec
                order.remove(task)
                continue
            kind, draft = drawn
            key = draft["case"] + draft["question"] + draft["key"]
            if key in seen:
                continue
            seen.add(key)
            kinds[kind] += 1
            out.append(_to_vignette(spec, task, draft, rng, seed, len(out)))
        events = {"drafts": attempts, "duplicates_skipped": attempts - len(out)}
        events.update({f"structure.{k}": v for k, v in sorted(kinds.items())})
        return GenerationResult(vignettes=out, events=events)

    def _stream(
        self, rng: random.Random, spec: DiseaseSpec, builders: list[Callable]
    ) -> Iterator[tuple[str, Draft]]:
        failures = 0
        while failures < _MAX_FAILURES:
            build = rng.choice(builders)
            draft = build(rng, spec)
            if draft is None or _contraindicated(spec, draft):
                failures += 1
                continue
            failures = 0
            kind = getattr(build, "__name__", type(build).__name__.lower().lstrip("_"))
            if draft.get("claim") and rng.random() < self.config.claim_share:
                draft, kind = with_claim(rng, spec, draft), f"{kind}+claim"
            yield kind, draft


def _contraindicated(spec: DiseaseSpec, draft: Draft) -> bool:
    """A treatment key ruled out by the case's own history (unless the item asks what to avoid)."""
    if "avoid" in draft.get("tags", ()):
        return False
    return bool(contraindications_in(spec, draft["key"], draft["case"]))


def _task_builders(spec: DiseaseSpec, task: Task) -> list[Callable]:
    builders = list(STRUCTURES.get(task, []))
    recall = FactRecall(spec, task)
    # As many recall draws as structured ones, so keyed facts get as much training as structures.
    return builders + [recall] * len(builders) if recall else builders


def _to_vignette(
    spec: DiseaseSpec, task: Task, d: Draft, rng: random.Random, seed: int, index: int
) -> Vignette:
    options = [d["key"], *d["distractors"][:3]]
    rng.shuffle(options)
    letters = "ABCD"
    answer = letters[options.index(d["key"])]
    digest = hashlib.sha256(f"{d['case']}|{d['question']}|{d['key']}".encode()).hexdigest()[:8]
    return Vignette(
        id=f"{spec.id}-{task[:3]}-{seed}-{index:04d}-{digest}",
        disease=spec.id,
        task=task,
        case=d["case"],
        question=d["question"],
        options=dict(zip(letters, options)),
        answer=answer,
        rationale=_with_fact(spec, d, rng),
        fact_ids=sorted(set(d["fact_ids"])),
        provenance=Provenance(generator="grounded", seed=seed),
        tags=list(d.get("tags", [])),
    )


def _with_fact(spec: DiseaseSpec, d: Draft, rng: random.Random) -> str:
    """Append one cited fact's statement: the rationale then teaches the fact, not just the key."""
    statement = spec.fact(rng.choice(sorted(d["fact_ids"]))).statement.strip()
    return f"{d['rationale'].rstrip('.')}. {statement}"
