"""``spec``: an offline oracle that judges each answer against the item's key and the spec.

It approves a right answer and corrects a wrong (or unreadable) one to the key, citing the
statement of the fact the item rests on. Deterministic and free, it runs the whole feedback
loop offline and makes the static-vs-feedback ablation measurable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from raresupport.review.models import Decision, ReviewItem, Rubric
from raresupport.review.reviewers.base import decide_each, reviewers
from raresupport.review.store import ReviewStore


@reviewers.register("spec")
class SpecReviewer:
    """Approve when the model's answer is the key; else correct it to the key."""

    kind = "spec"

    def __init__(self, id: str = "oracle") -> None:  # noqa: A002 - the reviewer's id
        self.id = id

    def decide(self, item: ReviewItem) -> Decision:
        v = item.vignette
        common = {"item_id": item.id, "reviewer_kind": self.kind, "reviewer_id": self.id}
        if item.model_answer == v.answer:
            return Decision(**common, action="approve", answer=v.answer,
                            rubric=Rubric(accuracy=5))  # fmt: skip
        cited = f"[{item.facts[0].id}] {item.facts[0].statement}" if item.facts else v.rationale
        rationale = f"The answer is {v.answer}. {v.options[v.answer]}: {cited}"
        return Decision(**common, action="correct", answer=v.answer, rationale=rationale,
                        rubric=Rubric(accuracy=1))  # fmt: skip

    def review(self, store: ReviewStore, items: Sequence[ReviewItem], disease: Any) -> int:
        return decide_each(self, store, items, self.decide)
