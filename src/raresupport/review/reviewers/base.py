"""The reviewer Protocol, the ``reviewers`` registry, and the loop automatic reviewers share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from raresupport.registry import Registry
from raresupport.review.models import Decision, ReviewItem
from raresupport.review.store import ReviewStore


@runtime_checkable
class Reviewer(Protocol):
    """Decides review items.

    Attributes:
        kind: the plug-in name (``spec``, ``llm``, ...), stored with every decision.
        id: who decided within that kind (a model name, a person's handle).
    """

    kind: str
    id: str

    def review(self, store: ReviewStore, items: Sequence[ReviewItem], disease: Any) -> int:
        """Decide every item in ``items`` this reviewer has not decided; return how many."""
        ...


#: reviewer name -> class taking its options as keyword arguments
reviewers: Registry[type] = Registry(
    "reviewers",
    builtins=tuple(
        f"raresupport.review.reviewers.{m}" for m in ("spec", "llm", "terminal", "web")
    ),
)


def undecided(reviewer: Reviewer, store: ReviewStore, items: Sequence[ReviewItem]):
    """The items of ``items`` without a decision by this reviewer (kind and id)."""
    done = {d.item_id for d in store.decisions(reviewer_kind=reviewer.kind,
                                               reviewer_id=reviewer.id)}  # fmt: skip
    return [i for i in items if i.id not in done]


def decide_each(
    reviewer: Reviewer,
    store: ReviewStore,
    items: Sequence[ReviewItem],
    decide: Callable[[ReviewItem], Decision],
) -> int:
    """Decide the undecided items one by one, committing each decision before the next."""
    todo = undecided(reviewer, store, items)
    for item in todo:
        store.record(decide(item))
    return len(todo)
