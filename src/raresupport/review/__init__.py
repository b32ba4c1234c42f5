"""Expert-in-the-loop: review items, the review store, reviewer plug-ins, dataset versions,
feedback rounds and reviewer agreement."""

from raresupport.review.models import ACTIONS, RUBRIC, Decision, FactRef, ReviewItem, Rubric
from raresupport.review.store import ReviewStore, ReviewStoreError

__all__ = [
    "ACTIONS", "RUBRIC", "Decision", "FactRef", "ReviewItem", "ReviewStore", "ReviewStoreError",
    "Rubric",
]
