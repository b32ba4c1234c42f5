"""Counseling items: several structures, each grounded in the spec's facts.

* ``counseling_case``: a counseling point's situation; the key is its recommended response and
  the distractors are its tempting wrong ones. The point's ``kind`` (validation of distress,
  misconception, school or work accommodation, expectations about treatment, when to seek
  help, support) picks the question stems, and kinds are drawn evenly so the rarer ones are
  trained as often as the common ones.
* ``seek_help_case``: safety-netting built from the red flags; which new finding should bring
  the patient back sooner, against the ordinary features of the primary disease.
"""

from __future__ import annotations

import random

from raresupport.generate.grounded.pick import pick_near
from raresupport.generate.grounded.surface import (
    Draft,
    cap,
    disease_at_site,
    extras,
    lc,
    patient,
    primary_name,
    sites,
    stem,
)
from raresupport.spec import DiseaseSpec

_FRAMES = [
    "{s}", "at a follow-up visit for {d}: {s}", "in clinic, a patient with {d} explains: {s}",
    "during a consultation about {d}, {s}", "a clinician reviewing {d} care hears this: {s}",
    "on a telehealth call about {d}: {s}", "a nurse running a {d} clinic notes: {s}",
]
_SAFETY_NET = [
    "{p} with {d} has just started treatment and asks when to come back sooner.",
    "{p} with {d} is leaving clinic; the clinician explains what should prompt an earlier visit.",
    "{p} has {d} and asks which changes would mean something else is going on.",
    "A relative of {p_lc} with {d} asks what to watch for at home.",
]


def counseling_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """A situation; the key is the recommended response, distractors the ones to avoid."""
    if not spec.counseling:
        return None
    kinds = sorted({p.kind for p in spec.counseling})
    kind = rng.choice(kinds)
    point = rng.choice([p for p in spec.counseling if p.kind == kind])
    frame = rng.choice(_FRAMES).format(d=spec.name.lower(), s=point.situation.rstrip("."))
    stems = spec.phrasing.questions.counseling
    return {
        "case": f"{cap(frame)}. {extras(rng, spec)}".strip(),
        "question": stem(rng, spec, stems.get(kind) or stems["general"]),
        "key": point.recommended,
        "distractors": rng.sample(point.avoid, 3),
        "rationale": f"{cap(point.impact.rstrip('.'))}; the supportive, evidence-based response "
        f"is: {point.recommended}.",
        "fact_ids": point.fact_ids,
    }


def seek_help_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """Safety-netting: the key is a red-flag finding, distractors ordinary disease features."""
    crit = spec.diagnostic_criteria[0] if spec.diagnostic_criteria else None
    if not spec.red_flags or crit is None or len(crit.supporting) < 3:
        return None
    flag = rng.choice(spec.red_flags)
    distractors = pick_near(rng, flag.finding, crit.supporting)
    if distractors is None:
        return None
    who = patient(rng, spec)
    where = disease_at_site(spec, sites(rng, spec)[0], primary_name(spec))
    case = rng.choice(_SAFETY_NET).format(p=who, p_lc=lc(who), d=where)
    return {
        "case": f"{case} {extras(rng, spec)}".strip(),
        "question": stem(rng, spec, spec.phrasing.questions.seek_help),
        "key": flag.finding,
        "distractors": distractors,
        "rationale": f"{cap(flag.finding)} is not part of {primary_name(spec)} and needs prompt "
        f"review: {lc(flag.action)}.",
        "fact_ids": flag.fact_ids,
    }
