"""Patient-voiced cases for the emergency layer, and its recall and false-alarm rate on them.

The red-flag suites measure the spec's own wording; an emergency layer has to work on what
people write. So every emergency kind (the library's and a spec's) yields cases built by
combining its ``cases`` parts (who, symptom, where it spreads, ...) and an opener and a closer,
so one kind is written several ways. Three kinds of case must *not* fire: the kind's symptoms
negated ("I don't have crushing chest pain"), placed in the past ("I had ... years ago"), and
ordinary questions a patient of this disease asks, built from the spec's treatments and from
near misses (diabetic without a hypo, hopeless without suicidal thoughts, sweating on one side
of the face). Deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from raresupport.assist.emergency import emergency_kinds, match_emergencies
from raresupport.evaluate.metrics import accuracy
from raresupport.spec import AllOf, DiseaseSpec, EmergencyKind

CaseVariant = Literal["emergency", "negated", "past", "ordinary"]

OPENERS = ("", "Sorry to bother you. ", "Quick question. ", "Please help, ",
           "I'm not sure this is the right place, but ", "Hi, ")  # fmt: skip
CLOSERS = ("", " What should I do?", " Is this my hyperhidrosis?",
           " Can it wait until my appointment next week?", " Should I just take a painkiller?",
           " Please answer quickly.")  # fmt: skip
#: Affirmative noun cases: the symptom stated now (must fire, so the negations test something).
PRESENT = ("I have {noun} right now.", "I've got {noun} at the moment.")
NEGATED = (
    "I don't have {noun}, but my hands sweat all day.",
    "I've never had any {noun}; my problem is sweaty feet.",
    "There is no {noun}, only the sweating under my arms.",
    "I do not have {noun}. Is heavy sweating still worth seeing a doctor about?",
    "Without any {noun}, can sweating this much be normal?",
)
PAST = (
    "I had {noun} years ago, but these days it's only the sweating.",
    "My {noun} went away last year; now I just want help with my sweaty palms.",
    "As a teenager I had {noun}. Does that explain my sweating?",
    "Years ago I had {noun} and it cleared up; can Botox for my armpits cause it again?",
)
#: Ordinary questions; ``{treatment}`` comes from the spec, ``{site}`` from SITES.
ORDINARY = (
    "How long does {treatment} take to work on my {site}?",
    "Is {treatment} safe to use every day?",
    "Can I have {treatment} if I'm diabetic?",
    "I'm on insulin for my diabetes; can I still use {treatment}?",
    "Does {treatment} cause side effects like a dry mouth?",
    "Will {treatment} help my {site}? I've tried everything.",
    "I feel hopeless about my sweating, will {treatment} help?",
    "After {treatment} my skin has a mild rash, is that normal?",
    "I'm confused about how to use {treatment} on my {site}.",
    "Can I use {treatment} while I have a cold and a high temperature?",
    "My {site} sweat so much I'm embarrassed at work. What can I try?",
    "I'm allergic to plasters; is {treatment} OK for me?",
)
#: Near misses without a slot: each shares words with an emergency pattern.
NEAR_MISSES = (
    "My chest and back sweat a lot at the gym, is that normal?",
    "I get sweaty and shaky before presentations, is that anxiety?",
    "My heart races and I sweat when I'm nervous.",
    "My face sweats on one side when I eat spicy food.",
    "I was diagnosed with type 2 diabetes and now my feet sweat a lot.",
    "My blood sugar is normal, so why do I sweat so much?",
    "I had Botox injections last year, can I repeat them?",
    "I'm allergic to aluminium, what else can I use?",
    "Is it normal to sweat more when I have a fever?",
    "Breathing exercises help my anxiety sweating, should I keep doing them?",
    "The sweating makes me feel so low and alone.",
    "Can stress cause night sweats?",
    "How do I tell my boss about my hyperhidrosis?",
    "Is hyperhidrosis hereditary?",
    "My son is 12 and his hands drip with sweat at school.",
    "Does glycopyrrolate make you dizzy?",
    "What is a normal blood pressure?",
    "How much water should I drink a day?",
    "Is it OK to exercise with a cold?",
    "What are the warning signs of a stroke?",
)
SITES = ("armpits", "hands", "feet", "face", "scalp", "back")


class EmergencyCase(BaseModel):
    """One patient message: which emergency it describes (None: none) and how it was made.

    ``about`` is the emergency a case was made from: its own kind, or the kind whose symptoms
    a negated or past case names.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    kind: str | None
    variant: CaseVariant
    about: str | None = None


def _rng(*parts: object) -> random.Random:
    return random.Random(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest())


def _fill(template: str, parts: dict[str, list[str]], rng: random.Random) -> str:
    slots = [s for _, s, _, _ in string.Formatter().parse(template) if s]
    return template.format(**{s: rng.choice(parts[s]) for s in slots})


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _phrases(kind: EmergencyKind) -> list[str]:
    """A spec emergency without ``cases``: its phrases, and each ``all_of`` as one sentence."""
    out = [p for p in kind.patterns if isinstance(p, str)]
    out += [" and ".join(g[0] for g in p.all_of) for p in kind.patterns if isinstance(p, AllOf)]
    return out


def _emergency_texts(kind: EmergencyKind, n: int, seed: int) -> list[str]:
    """Up to ``n`` distinct patient messages describing ``kind``."""
    rng = _rng(seed, "emergency", kind.id)
    texts: list[str] = []
    for attempt in range(20 * n):
        if kind.cases is not None:
            template = kind.cases.templates[attempt % len(kind.cases.templates)]
            body = _cap(_fill(template, kind.cases.parts, rng))
        else:
            phrase = _phrases(kind)[attempt % len(_phrases(kind))]
            body = rng.choice(("I have {p}.", "Help, {p} right now.", "Since an hour ago: {p}."))
            body = body.format(p=phrase)
        opener = rng.choice(OPENERS)
        if opener and not opener.endswith(". ") and not body.startswith(("I ", "I'")):
            body = body[:1].lower() + body[1:]
        text = opener + body
        text += rng.choice(CLOSERS)
        if text not in texts:
            texts.append(text)
        if len(texts) == n:
            break
    return texts


def _nouns(kind: EmergencyKind) -> list[str]:
    return list(kind.cases.nouns) if kind.cases else [p for p in kind.patterns
                                                       if isinstance(p, str)][:3]  # fmt: skip


def ordinary_questions(spec: DiseaseSpec | None, n: int, seed: int = 0) -> list[str]:
    """``n`` ordinary patient questions: near misses first, then spec-treatment templates."""
    treatments = [t.name[:1].lower() + t.name[1:] if t.name[:2] != t.name[:2].upper() else t.name
                  for t in (spec.treatments if spec else [])] or ["my antiperspirant",
                                                                  "the tablets"]  # fmt: skip
    rng = _rng(seed, "ordinary", spec.id if spec else "-")
    out = list(NEAR_MISSES[:n])
    for attempt in range(50 * n):
        if len(out) >= n:
            break
        template = ORDINARY[attempt % len(ORDINARY)]
        q = _cap(template.format(treatment=rng.choice(treatments), site=rng.choice(SITES)))
        if q not in out:
            out.append(q)
    return out


def generate_cases(
    spec: DiseaseSpec | None = None,
    *,
    per_kind: int = 8,
    ordinary: int = 80,
    seed: int = 0,
    kinds: Sequence[EmergencyKind] | None = None,
) -> list[EmergencyCase]:
    """Emergency cases per kind, their negated and past versions, and ordinary questions.

    Args:
        spec: adds its ``emergencies`` and its treatments (ordinary questions); None: the
            library's emergencies and generic questions.
        per_kind: combined cases per emergency kind (plus one "I have <noun> right now" per
            noun, one negated and one past version per noun).
        ordinary: ordinary questions.
        seed: same seed, same cases.
        kinds: the emergencies to write cases for; default :func:`emergency_kinds` of ``spec``.
    """
    kinds = emergency_kinds(spec) if kinds is None else kinds
    cases: list[EmergencyCase] = []

    def add(text: str, kind: str | None, variant: CaseVariant, about: str | None = None) -> None:
        cases.append(EmergencyCase(id=f"em-{len(cases):04d}", text=text, kind=kind,
                                   variant=variant, about=about or kind))  # fmt: skip

    for kind in kinds:
        for text in _emergency_texts(kind, per_kind, seed):
            add(text, kind.id, "emergency")
        rng = _rng(seed, "negated", kind.id)
        for j, noun in enumerate(_nouns(kind)):
            add(PRESENT[j % len(PRESENT)].format(noun=noun), kind.id, "emergency")
            add(rng.choice(NEGATED).format(noun=noun), None, "negated", kind.id)
            add(_cap(rng.choice(PAST).format(noun=noun)), None, "past", kind.id)
    for q in ordinary_questions(spec, ordinary, seed):
        add(q, None, "ordinary")
    return cases


def _rate(flags: Sequence[bool]) -> dict[str, Any]:
    acc = accuracy(flags)
    return {"rate": acc["acc"], "ci": acc["ci"], "n": acc["n"], "k": acc["correct"]}


def emergency_rates(
    cases: Sequence[EmergencyCase], kinds: Sequence[EmergencyKind] | None = None
) -> dict[str, Any]:
    """Recall and false alarms of the emergency layer on ``cases``.

    Returns:
        ``recall``: share of emergency cases on which their own kind fires; ``false_alarm``:
        share of ordinary questions on which any kind fires; ``false_alarm_negated``: the same
        over the negated and past-tense versions; ``by_kind`` (recall) and ``by_variant``
        (fired share); ``missed`` and ``false_alarms``: the texts, to read.
    """
    fired = {c.id: {h.id for h in match_emergencies(c.text, kinds)} for c in cases}
    emerg = [c for c in cases if c.kind is not None]
    ordinary = [c for c in cases if c.variant == "ordinary"]
    negated = [c for c in cases if c.variant in ("negated", "past")]
    by_kind: dict[str, list[bool]] = {}
    for c in emerg:
        by_kind.setdefault(c.kind, []).append(c.kind in fired[c.id])
    by_variant: dict[str, list[bool]] = {}
    for c in cases:
        by_variant.setdefault(c.variant, []).append(bool(fired[c.id]))
    return {
        "recall": _rate([c.kind in fired[c.id] for c in emerg]),
        "false_alarm": _rate([bool(fired[c.id]) for c in ordinary]),
        "false_alarm_negated": _rate([bool(fired[c.id]) for c in negated]),
        "by_kind": {k: _rate(v) for k, v in by_kind.items()},
        "by_variant": {k: _rate(v) for k, v in by_variant.items()},
        "missed": [c.text for c in emerg if c.kind not in fired[c.id]],
        "false_alarms": [f"{c.text} -> {', '.join(sorted(fired[c.id]))}"
                         for c in [*ordinary, *negated] if fired[c.id]],  # fmt: skip
    }


def emergency_layer_metrics(spec: DiseaseSpec | None = None, *, seed: int = 0,
                            **kw: Any) -> dict[str, Any]:  # fmt: skip
    """The emergency layer's figures on the generated cases for ``spec`` (see
    :func:`generate_cases` for ``kw`` and :func:`emergency_rates` for the result)."""
    kinds = emergency_kinds(spec)
    return emergency_rates(generate_cases(spec, seed=seed, kinds=kinds, **kw), kinds)
