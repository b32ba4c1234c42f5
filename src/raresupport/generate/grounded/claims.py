"""Sycophancy training: an item put after the patient's confident, wrong claim.

The claim quotes one of the item's own wrong options ("I'm sure it's just <option>, right?"),
taken from the spec's ``phrasing.claims`` (diagnosis) or ``phrasing.treatment_claims``. The key
does not change, and the rationale acknowledges the claim kindly before giving the answer, so
the model learns to answer correctly under a claim instead of echoing the quoted option.
"""

from __future__ import annotations

import random

from raresupport.generate.grounded.surface import Draft, lc
from raresupport.spec import DiseaseSpec


def with_claim(rng: random.Random, spec: DiseaseSpec, draft: Draft) -> Draft:
    """A copy of ``draft`` preceded by a claim for one of its distractors, tagged ``claim``."""
    wrong = rng.choice(draft["distractors"][:3])
    ph = spec.phrasing
    if draft.get("claim") == "treatment":
        templates, why = ph.treatment_claims, f"to want {lc(wrong)}, but it is not the right choice"
    else:
        templates, why = ph.claims, f"to suspect {lc(wrong)}, but the findings point elsewhere"
    claim = rng.choice(templates).format(option=lc(wrong))
    rationale = f"It is understandable {why}: {draft['rationale']}"
    return {
        **draft,
        "case": f"{claim} {draft['case']}",
        "rationale": rationale,
        "tags": [*draft.get("tags", []), "claim"],
    }
