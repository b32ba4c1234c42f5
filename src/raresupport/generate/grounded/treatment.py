"""Treatment items: the ladder by site and line, adverse effects, contraindications."""

from __future__ import annotations

import random

from raresupport.generate.grounded.pick import pick_near
from raresupport.generate.grounded.surface import (
    FOLLOW_UP,
    Draft,
    at_site,
    cap,
    disease_at_site,
    extras,
    join,
    opener,
    patient,
    primary_name,
    site_name,
    stem,
)
from raresupport.spec import DiseaseSpec, Treatment
from raresupport.spec.checks import contraindications_in

STAGE = {1: "first-line", 2: "second-line", 3: "third-line"}


def for_site(spec: DiseaseSpec, site: str, line: int) -> list[Treatment]:
    return [t for t in spec.treatments if site in t.sites and t.line == line]


def ladder_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """Site and treatments tried: the key is a treatment of the next line for that site."""
    if not spec.sites:
        return None
    site = rng.choice(spec.sites)
    line = rng.choice([1, 1, 2, 2, 3])
    keys = for_site(spec, site, line)
    if not keys:
        return None
    key = rng.choice(keys)
    wrong = [t.name for t in spec.treatments if not (site in t.sites and t.line == line)]
    tried = ""
    if line > 1:
        failed = [t for t in spec.treatments if site in t.sites and t.line < line]
        if not failed:
            return None
        f = rng.sample(failed, min(2, len(failed)))
        tried = f" Despite an adequate trial of {join([t.name for t in f])}, it persists."
    if line == 1:
        wrong = [t.name for t in spec.treatments if t.line > 1 or site not in t.sites]
    distractors = pick_near(rng, key.name, wrong)
    if distractors is None:
        return None
    case = (
        f"{opener(rng, patient(rng, spec))} {disease_at_site(spec, site, primary_name(spec))}."
        f"{tried} {extras(rng, spec)}"
    ).strip()
    return {
        "case": case,
        "question": stem(rng, spec, spec.phrasing.questions.treatment, stage=STAGE[line]),
        "key": key.name,
        "distractors": distractors,
        "rationale": f"{key.name} ({key.drug_class}) is {STAGE[line]} for the "
        f"{site_name(spec, site)}. {key.notes}".strip(),
        "fact_ids": key.fact_ids,
        "claim": "treatment",
    }


def draw_adverse_effect(
    rng: random.Random, spec: DiseaseSpec
) -> tuple[Treatment, str, list[str], str] | None:
    """A treatment, one of its adverse effects (the key), distractor effects and a site.

    None when fewer than two treatments list adverse effects or no distractors can be drawn.
    """
    tx = [t for t in spec.treatments if t.adverse_effects]
    if len(tx) < 2:
        return None
    t = rng.choice(tx)
    ae = rng.choice(t.adverse_effects)
    distractors = pick_near(rng, ae, other_effects(spec, t))
    if distractors is None:
        return None
    return t, ae, distractors, rng.choice(t.sites)


def adverse_effect_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """Follow-up on a treatment: the key is one of its adverse effects."""
    drawn = draw_adverse_effect(rng, spec)
    if drawn is None:
        return None
    t, ae, distractors, site = drawn
    weeks = rng.randint(2, 12)
    case = (
        f"{patient(rng, spec, adult=True)} {rng.choice(FOLLOW_UP)} {weeks} weeks after starting "
        f"{t.name} for {disease_at_site(spec, site)}. {extras(rng, spec)}"
    ).strip()
    return adverse_effect_item(rng, spec, t, ae, distractors, case)


def adverse_effect_item(
    rng: random.Random, spec: DiseaseSpec, t: Treatment, ae: str, distractors: list[str], case: str
) -> Draft:
    """The draft for a case after starting ``t`` whose key is its adverse effect ``ae``."""
    return {
        "case": case,
        "question": stem(rng, spec, spec.phrasing.questions.adverse_effect, treatment=t.name),
        "key": ae,
        "distractors": distractors,
        "rationale": f"Known adverse effects of {t.name}: {join(t.adverse_effects)}.",
        "fact_ids": t.fact_ids,
    }


def other_effects(spec: DiseaseSpec, t: Treatment) -> list[str]:
    """Adverse effects of other treatments that ``t`` does not list."""
    own = {a.lower() for a in t.adverse_effects}
    return [a for o in spec.treatments if o.id != t.id for a in o.adverse_effects
            if a.lower() not in own]


def which_treatment_causes(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """A feared adverse effect: the key is the treatment that causes it."""
    tx = [t for t in spec.treatments if t.adverse_effects]
    if len(tx) < 4:
        return None
    t = rng.choice(tx)
    ae = rng.choice(t.adverse_effects)
    pool = [o.name for o in spec.treatments
            if all(ae.lower() != a.lower() for a in o.adverse_effects)]
    distractors = pick_near(rng, t.name, pool)
    if distractors is None:
        return None
    case = (
        f"{opener(rng, patient(rng, spec, adult=True))} {spec.name.lower()} and is comparing "
        f"treatments. They are worried about {ae}. {extras(rng, spec)}"
    ).strip()
    return {
        "case": case,
        "question": stem(rng, spec, spec.phrasing.questions.causes_effect, effect=ae),
        "key": t.name,
        "distractors": distractors,
        "rationale": f"{cap(ae)} is a recognised adverse effect of {t.name}.",
        "fact_ids": t.fact_ids,
    }


def contraindication_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """A history that rules one treatment out: the key is the treatment to avoid.

    Distractors are treatments that nothing in the case rules out, so exactly one option is
    contraindicated even when the case mentions a second condition.
    """
    tx = [t for t in spec.treatments if t.contraindications]
    if not tx:
        return None
    t = rng.choice(tx)
    ci = rng.choice(t.contraindications)
    site = rng.choice(t.sites)
    case = (
        f"{opener(rng, patient(rng, spec, adult=True))} {at_site(rng, spec, [site])}. "
        f"Relevant history: {ci}. {extras(rng, spec)}"
    ).strip()
    pool = [o.name for o in spec.treatments if not contraindications_in(spec, o.name, case)]
    distractors = pick_near(rng, t.name, pool)
    if distractors is None:
        return None
    return {
        "case": case,
        "question": stem(rng, spec, spec.phrasing.questions.avoid),
        "key": t.name,
        "distractors": distractors,
        "rationale": f"{cap(ci)} is a contraindication to {t.name}.",
        "fact_ids": t.fact_ids,
        "tags": ["avoid"],
    }
