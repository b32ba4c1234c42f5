"""Diagnosis items: criteria, secondary causes, differentials, red flags, severity grading."""

from __future__ import annotations

import random

from raresupport.generate.grounded.pick import pick_near
from raresupport.generate.grounded.surface import (
    Draft,
    at_site,
    cap,
    extras,
    join,
    opener,
    patient,
    primary_name,
    sites,
    stem,
)
from raresupport.spec import DiseaseSpec


def primary_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """Criteria met: the key is the primary diagnosis, distractors are causes and mimics."""
    if not spec.diagnostic_criteria:
        return None
    crit = rng.choice(spec.diagnostic_criteria)
    k = min(len(crit.supporting), max(crit.min_supporting, rng.randint(2, 3)))
    feats = rng.sample(crit.supporting, k)
    years = rng.randint(1, 12)
    case = (
        f"{opener(rng, patient(rng, spec))} {at_site(rng, spec, sites(rng, spec, 1, 2))} for "
        f"{years} year{'s' if years > 1 else ''}. No medication or systemic symptoms explain it. "
        + (f"Features: {join(feats)}. " if feats else "") + extras(rng, spec)
    ).strip()
    pool = [c.name for c in spec.secondary_causes] + [c.name for c in spec.differentials]
    distractors = pick_near(rng, crit.name, pool)
    if distractors is None:
        return None
    return {
        "case": case,
        "question": stem(rng, spec, spec.phrasing.questions.diagnosis),
        "key": crit.name,
        "distractors": distractors,
        "rationale": f"{cap(join(crit.required))}"
        + (f", plus {join(feats)}," if feats else "") + f" meets the criteria for {crit.name}.",
        "fact_ids": crit.fact_ids,
        "claim": "diagnosis",
    }


def cause_case(rng: random.Random, spec: DiseaseSpec, section: str = "secondary_causes"):
    """A cause's distinguishing features: the key is that cause."""
    causes = getattr(spec, section)
    if len(causes) < 4:
        return None
    cause = rng.choice(causes)
    feats = rng.sample(cause.features, min(len(cause.features), rng.randint(2, 3)))
    months = rng.randint(2, 18)
    ph = spec.phrasing
    lead = ph.new_onset.format(complaint=ph.complaint) if section == "secondary_causes" \
        else ph.complaint
    case = (
        f"{opener(rng, patient(rng, spec, adult=True))} {lead} over the past {months} months. "
        f"{cap(join(feats))}. {extras(rng, spec)}"
    ).strip()
    pool = [c.name for c in causes if c.id != cause.id]
    pool += [c.name for c in spec.diagnostic_criteria]
    distractors = pick_near(rng, cause.name, pool)
    if distractors is None:
        return None
    return {
        "case": case,
        "question": stem(rng, spec, ph.questions.cause),
        "key": cause.name,
        "distractors": distractors,
        "rationale": f"{cap(join(feats))} point to {cause.name}"
        + (f" ({cause.category})." if cause.category else "."),
        "fact_ids": cause.fact_ids,
        "claim": "diagnosis",
    }


def differential_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    return cause_case(rng, spec, "differentials")


def red_flag_feature(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """Which finding suggests a secondary cause (red flag) rather than primary disease?"""
    crit = spec.diagnostic_criteria[0] if spec.diagnostic_criteria else None
    if not spec.red_flags or crit is None or len(crit.supporting) < 3:
        return None
    flag = rng.choice(spec.red_flags)
    case = (
        f"{opener(rng, patient(rng, spec, adult=True))} {at_site(rng, spec, sites(rng, spec))}. "
        f"{extras(rng, spec)}"
    ).strip()
    distractors = pick_near(rng, flag.finding, crit.supporting)
    if distractors is None:
        return None
    return {
        "case": case,
        "question": stem(rng, spec, spec.phrasing.questions.red_flag_feature),
        "key": flag.finding,
        "distractors": distractors,
        "rationale": f"{cap(flag.finding)} is a red flag: {flag.action}.",
        "fact_ids": flag.fact_ids,
    }


def red_flag_pool(spec: DiseaseSpec) -> list[str]:
    """Wrong next steps for a red flag: treat as usual, reassure, or discharge."""
    pool = [f"Start {t.name}" for t in spec.treatments if t.line == 1]
    pool += [f"Refer for {t.name}" for t in spec.treatments if t.line == 3]
    return pool + ["Reassure and review in a year", f"Diagnose {primary_name(spec)} and discharge"]


def red_flag_action(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """A red flag on questioning: the key is the spec's action for it."""
    if not spec.red_flags:
        return None
    flag = rng.choice(spec.red_flags)
    case = (
        f"{opener(rng, patient(rng, spec, older=True))} {at_site(rng, spec, sites(rng, spec))}. "
        f"On questioning: {flag.finding}. {extras(rng, spec)}"
    ).strip()
    distractors = pick_near(rng, flag.action, red_flag_pool(spec))
    if distractors is None:
        return None
    return {
        "case": case,
        "question": stem(rng, spec, spec.phrasing.questions.next_step),
        "key": flag.action,
        "distractors": distractors,
        "rationale": f"{cap(flag.finding)} is a red flag, so: {flag.action}.",
        "fact_ids": flag.fact_ids,
    }


def severity_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """The patient's own description of impact: the key is its level on a severity scale."""
    if not spec.severity_scales:
        return None
    scale = rng.choice(spec.severity_scales)
    if len(scale.levels) < 4:
        return None
    level = rng.choice(scale.levels)
    labels = {lv.level: f"{scale.id.upper()} {lv.level} ({lv.label})" for lv in scale.levels}
    case = (
        f"{opener(rng, patient(rng, spec))} {at_site(rng, spec, sites(rng, spec))}. Asked how it "
        f"affects daily life, the patient says: \"{level.description}\""
    )
    others = [v for k, v in labels.items() if k != level.level]
    return {
        "case": case,
        "question": stem(rng, spec, spec.phrasing.questions.severity, scale=scale.name,
                         scale_id=scale.id.upper()),
        "key": labels[level.level],
        "distractors": rng.sample(others, 3),
        "rationale": f"{scale.name}: {level.description} corresponds to level {level.level} "
        f"({level.label}). {scale.interpretation}".strip(),
        "fact_ids": scale.fact_ids,
    }
