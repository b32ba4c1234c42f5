"""Review fixtures: review items built from offline vignettes (no model needed)."""

from __future__ import annotations

import pytest

from raresupport.review.models import FactRef, ReviewItem


def make_items(disease, n: int, round_: int = 1, *, wrong_every: int = 2) -> list[ReviewItem]:
    """``n`` review items from grounded vignettes; every ``wrong_every``-th answer is wrong."""
    from raresupport.generate import get_generator

    vignettes = get_generator("grounded").generate(disease, n, ("diagnosis", "treatment",
                                                                "counseling"), 99).vignettes
    facts = {f.id: f for f in disease.spec.facts}
    items = []
    for i, v in enumerate(vignettes[:n]):
        v = v.model_copy(update={"id": f"r{round_}-{i:03d}"})
        wrong = "ABCD"[("ABCD".index(v.answer) + 1) % 4]
        items.append(ReviewItem(
            id=v.id, round=round_, vignette=v, method="loglik",
            model_answer=wrong if wrong_every and i % wrong_every == 1 else v.answer,
            scores={k: -1.0 - j for j, k in enumerate("ABCD")}, explanation="because",
            facts=[FactRef(id=f, statement=facts[f].statement) for f in v.fact_ids],
        ))  # fmt: skip
    return items


@pytest.fixture
def review_items(hyperhidrosis):
    return make_items(hyperhidrosis, 6)
