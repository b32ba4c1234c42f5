"""Planning: every teacher request rendered up front, deterministic in (seed, index).

Which task, focus fact, companion facts, persona and key letter item ``i`` gets is fixed here,
before any network call, so a re-run sends byte-identical requests (and hits the cache).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jinja2

from raresupport.data.vignette import Task
from raresupport.errors import TeacherError
from raresupport.prompts import render_text, template_hash
from raresupport.spec.models import DiseaseSpec, Fact, VignetteHints

#: Fact topics an item of each task can turn on (its focus fact; all facts if none match) ...
FOCUS_TOPICS: dict[str, tuple[str, ...]] = {
    "diagnosis": ("diagnosis", "severity", "secondary", "red_flag", "differential"),
    "treatment": ("treatment", "adverse_effect"),
    "counseling": ("counseling", "prognosis"),
}
#: ... and the topics its companion facts (context, distractor material) are drawn from first.
CONTEXT_TOPICS: dict[str, tuple[str, ...]] = {
    "diagnosis": FOCUS_TOPICS["diagnosis"] + ("definition", "epidemiology", "pathophysiology"),
    "treatment": FOCUS_TOPICS["treatment"] + ("severity", "secondary"),
    "counseling": FOCUS_TOPICS["counseling"] + ("epidemiology", "treatment"),
}
FACTS_PER_PROMPT = 6
LETTERS = "ABCD"
TEMPLATES = ("system.jinja2", "vignette.jinja2")  # system message, user message
ITEM_FIELDS = ("case", "question", "options", "answer", "rationale", "fact_ids")


def item_schema(spec: DiseaseSpec) -> dict[str, Any]:
    """The strict ``response_format`` for one vignette; fact ids limited to the spec's."""
    text = {"type": "string"}
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": list(ITEM_FIELDS),
        "properties": {
            "case": text,
            "question": text,
            "options": {
                "type": "object",
                "additionalProperties": False,
                "required": list(LETTERS),
                "properties": {letter: text for letter in LETTERS},
            },
            "answer": {"type": "string", "enum": list(LETTERS)},
            "rationale": text,
            "fact_ids": {
                "type": "array",
                "items": {"type": "string", "enum": [f.id for f in spec.facts]},
            },
        },
    }
    return {
        "type": "json_schema",
        "json_schema": {"name": "vignette", "strict": True, "schema": schema},
    }


@dataclass(frozen=True)
class ItemPlan:
    """Everything that decides item ``index``'s request, fixed before any network call."""

    index: int
    id: str
    task: Task
    messages: list[dict[str, str]]


def _persona(hints: VignetteHints, rng: random.Random) -> dict[str, Any]:
    """Surface variety (who, where, what triggers) drawn from the spec's vignette hints."""
    lo, hi = sorted((hints.age_min, hints.age_max))

    def pick(options: list[str]) -> str | None:
        return rng.choice(options) if options else None

    age, sex, occupation = rng.randint(lo, hi), pick(hints.sexes), pick(hints.occupations)
    if age < 18:  # no 13-year-old nurses
        sex = {"woman": "girl", "man": "boy"}.get(sex or "", sex)
        occupation = None  # the template says "at school"
    return {
        "age": age,
        "sex": sex or "person",
        "occupation": occupation,
        "setting": pick(hints.settings),
        "trigger": pick(hints.triggers),
        "comorbidity": pick(hints.comorbidities) if rng.random() < 0.3 else None,
    }


def _facts_for(spec: DiseaseSpec, task: str, focus: Fact, rng: random.Random) -> list[Fact]:
    """The focus fact plus task-relevant companions (then any others), in spec order."""
    topics = CONTEXT_TOPICS[task]
    relevant = [f for f in spec.facts if f.topic in topics and f.id != focus.id]
    others = [f for f in spec.facts if f.topic not in topics and f.id != focus.id]
    chosen = rng.sample(relevant, min(FACTS_PER_PROMPT - 1, len(relevant)))
    chosen += rng.sample(others, min(FACTS_PER_PROMPT - 1 - len(chosen), len(others)))
    ids = {focus.id} | {f.id for f in chosen}
    return [f for f in spec.facts if f.id in ids]


def _focus_order(spec: DiseaseSpec, task: str, seed: int) -> list[Fact]:
    """A seed-shuffled cycle of the task's facts, so successive items cover different facts."""
    relevant = [f for f in spec.facts if f.topic in FOCUS_TOPICS[task]] or list(spec.facts)
    random.Random(f"{spec.id}:{seed}:{task}").shuffle(relevant)
    return relevant


def plan_items(
    disease: Any, env: jinja2.Environment, n: int, tasks: Sequence[Task], seed: int
) -> tuple[list[ItemPlan], dict[str, str]]:
    """Render every request up front (deterministic in seed and index).

    Returns the plans and the hashes of the templates used.

    Raises:
        TeacherError: a template is missing, malformed, or uses an undefined variable.
    """
    spec: DiseaseSpec = disease.spec
    orders = {t: _focus_order(spec, t, seed) for t in set(tasks)}
    seen = dict.fromkeys(tasks, 0)
    plans: list[ItemPlan] = []
    hashes = {}
    for name in TEMPLATES:
        with _naming(name):
            hashes[name] = template_hash(env, name)
    for i in range(n):
        task = tasks[i % len(tasks)]
        focus = orders[task][seen[task] % len(orders[task])]
        seen[task] += 1
        rng = random.Random(f"{spec.id}:{seed}:{i}")
        ctx = {
            "spec": spec,
            "task": task,
            "focus": focus,
            "facts": _facts_for(spec, task, focus, rng),
            "persona": _persona(spec.vignette_hints, rng),
            "key_letter": LETTERS[i % len(LETTERS)],
            "item_id": f"{spec.id}-{task[:2]}-{seed}-{i:05d}",
            "index": i,
        }
        messages = []
        for role, name in zip(("system", "user"), TEMPLATES, strict=True):
            with _naming(name):
                messages.append({"role": role, "content": render_text(env, name, **ctx)})
        plans.append(ItemPlan(index=i, id=ctx["item_id"], task=task, messages=messages))
    return plans, hashes


@contextmanager
def _naming(name: str) -> Iterator[None]:
    """Report a template problem as one TeacherError line naming the template (and line)."""
    try:
        yield
    except jinja2.TemplateSyntaxError as exc:
        raise TeacherError(f"template {exc.filename or name}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TeacherError(f"template {name}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise TeacherError(
            f"template {name}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at byte "
            f"offset {exc.start})"
        ) from None
