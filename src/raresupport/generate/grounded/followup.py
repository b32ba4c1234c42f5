"""Longitudinal items: a first visit, then a later one with a change.

The change is one of: the first-line treatment failed (key: a second-line treatment for the
same site), an adverse effect appeared (key: that treatment's adverse effect), or a new red
flag appeared (key: the spec's action for it). Items keep their clinical task (treatment or
diagnosis) so the prompt's task line matches single-visit items, and carry the tag
``followup`` so evaluation can report them apart.
"""

from __future__ import annotations

import random

from raresupport.generate.grounded.diagnosis import red_flag_pool
from raresupport.generate.grounded.pick import pick_near
from raresupport.generate.grounded.surface import (
    Draft,
    at_site,
    cap,
    disease_at_site,
    extras,
    join,
    lc,
    patient,
    primary_name,
    site_name,
    stem,
)
from raresupport.generate.grounded.treatment import (
    STAGE,
    adverse_effect_item,
    draw_adverse_effect,
    for_site,
)
from raresupport.spec import DiseaseSpec

_LATER = ["{n} months later", "At review {n} months later", "{n} months on",
          "At the next appointment, {n} months later"]
_FAILED = ["there is little improvement despite using it as directed",
           "the patient says it has not helped enough",
           "the problem persists and still limits daily life",
           "it was stopped because it did not control the symptoms"]


def _visit_one(
    rng: random.Random, spec: DiseaseSpec, site: str, started: str, older: bool = False
) -> str:
    who = patient(rng, spec, adult=True, older=older)
    return (
        f"Visit 1: {who} has {at_site(rng, spec, [site])}. The clinician diagnoses "
        f"{disease_at_site(spec, site, primary_name(spec))} and starts {started}. "
        f"{extras(rng, spec)}"
    ).strip()


def _later(rng: random.Random) -> str:
    return rng.choice(_LATER).format(n=rng.randint(2, 6))


def treatment_failure(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """First-line treatment failed at visit 2: the key is a second-line one for the site."""
    if not spec.sites:
        return None
    site = rng.choice(spec.sites)
    first, second = for_site(spec, site, 1), for_site(spec, site, 2)
    if not first or not second or len(first) > 2:
        return None
    key = rng.choice(second)
    # Never a treatment that is still a correct next step (an untried first-line one).
    pool = [first[0].name] + [t.name for t in spec.treatments
                              if site not in t.sites or t.line == 3]
    distractors = pick_near(rng, key.name, pool)
    if distractors is None:
        return None
    started = join([t.name for t in first])
    case = f"{_visit_one(rng, spec, site, started)} Visit 2: {_later(rng)}, {rng.choice(_FAILED)}."
    return {
        "case": case,
        "question": stem(rng, spec, spec.phrasing.questions.treatment, stage=STAGE[2]),
        "key": key.name,
        "distractors": distractors,
        "rationale": f"After {started} fails, {key.name} ({key.drug_class}) is {STAGE[2]} for "
        f"the {site_name(spec, site)}.",
        "fact_ids": key.fact_ids,
        "tags": ["followup"],
        "claim": "treatment",
    }


def side_effect(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """A treatment started at visit 1: the key is its adverse effect reported at visit 2."""
    drawn = draw_adverse_effect(rng, spec)
    if drawn is None:
        return None
    t, ae, distractors, site = drawn
    case = (
        f"{_visit_one(rng, spec, site, lc(t.name))} Visit 2: {_later(rng)}, it has helped but "
        f"the patient reports a new problem."
    )
    return {**adverse_effect_item(rng, spec, t, ae, distractors, case), "tags": ["followup"]}


def new_red_flag(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """A red flag appears at visit 2: the key is the spec's action for it."""
    if not spec.red_flags or not spec.sites:
        return None
    site = rng.choice(spec.sites)
    first = for_site(spec, site, 1)
    if not first:
        return None
    flag = rng.choice(spec.red_flags)
    distractors = pick_near(rng, flag.action, red_flag_pool(spec))
    if distractors is None:
        return None
    case = (
        f"{_visit_one(rng, spec, site, lc(rng.choice(first).name), older=True)} Visit 2: "
        f"{_later(rng)}, the "
        f"clinician learns something new: {lc(flag.finding)}."
    )
    return {
        "case": case,
        "question": stem(rng, spec, spec.phrasing.questions.next_step),
        "key": flag.action,
        "distractors": distractors,
        "rationale": f"{cap(flag.finding)} is a red flag that the first diagnosis does not "
        f"explain, so: {flag.action}.",
        "fact_ids": flag.fact_ids,
        "tags": ["followup"],
    }
