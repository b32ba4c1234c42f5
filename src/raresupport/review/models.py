"""What a reviewer sees (ReviewItem) and what a reviewer says (Decision).

A review item is one fresh vignette the tuned model answered: its chosen option (by the run's
headline method), the per-option scores, a short generated explanation, and the spec facts the
item rests on. A decision approves the answer, corrects it (edited answer + rationale) or
rejects the item (reason); it may carry 1-5 rubric scores on the three dimensions the original
study's specialists rated (accuracy, appropriateness, empathy).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from raresupport.data.vignette import Letter, Vignette

Action = Literal["approve", "correct", "reject"]
ACTIONS: tuple[Action, ...] = ("approve", "correct", "reject")
RUBRIC: tuple[str, ...] = ("accuracy", "appropriateness", "empathy")


class FactRef(BaseModel):
    """A spec fact shown next to an item: its id and statement."""

    model_config = ConfigDict(frozen=True)

    id: str
    statement: str


class ReviewItem(BaseModel):
    """One answered item waiting for review.

    ``vignette`` is the generated item itself (with the generator's key); ``model_answer`` is the
    tuned model's pick, ``scores`` its per-option scores under ``method`` (log-probabilities for
    ``letter``, length-normalised log-likelihoods for ``loglik``; higher is better).
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    round: int = Field(ge=0)
    vignette: Vignette
    method: str
    model_answer: Letter | None
    scores: dict[str, float] = Field(default_factory=dict)
    explanation: str = ""
    facts: list[FactRef] = Field(default_factory=list)

    @property
    def key(self) -> str:
        """The generator's answer key (what the ``spec`` reviewer checks against)."""
        return self.vignette.answer

    @property
    def text(self) -> str:
        """Case and question, as the model saw them."""
        return f"{self.vignette.case.strip()}\n\n{self.vignette.question.strip()}"


class Rubric(BaseModel):
    """1-5 ratings; any may be missing (a reviewer that does not rate)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accuracy: int | None = Field(None, ge=1, le=5)
    appropriateness: int | None = Field(None, ge=1, le=5)
    empathy: int | None = Field(None, ge=1, le=5)


class Decision(BaseModel):
    """A reviewer's verdict on one item.

    ``answer`` is the letter the reviewer stands behind: the model's answer for ``approve``, the
    edited answer for ``correct``, None for ``reject``.

    Raises:
        pydantic.ValidationError: ``correct`` without an answer or rationale, ``reject`` without
            a reason, or an answer on a rejection.
    """

    model_config = ConfigDict(extra="forbid")

    item_id: str
    reviewer_kind: str = Field(min_length=1)
    reviewer_id: str = Field(min_length=1)
    action: Action
    answer: Letter | None = None
    rationale: str = ""
    reason: str = ""
    rubric: Rubric = Field(default_factory=Rubric)
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @model_validator(mode="after")
    def _consistent(self) -> Decision:
        if self.action == "correct" and (self.answer is None or not self.rationale.strip()):
            raise ValueError("a correction needs the edited answer and a rationale")
        if self.action == "approve" and self.answer is None:
            raise ValueError("an approval needs the approved answer letter")
        if self.action == "reject":
            if not self.reason.strip():
                raise ValueError("a rejection needs a reason")
            if self.answer is not None:
                raise ValueError("a rejection carries no answer")
        return self

    def row(self) -> dict[str, Any]:
        """Flat column -> value mapping for the store."""
        return {
            "item_id": self.item_id, "reviewer_kind": self.reviewer_kind,
            "reviewer_id": self.reviewer_id, "action": self.action, "answer": self.answer,
            "rationale": self.rationale, "reason": self.reason,
            **{f"score_{k}": getattr(self.rubric, k) for k in RUBRIC},
            "created_at": self.created_at.isoformat(),
        }  # fmt: skip

    @classmethod
    def from_row(cls, row: Any) -> Decision:
        keys = row.keys()
        rubric = Rubric(**{k: row[f"score_{k}"] for k in RUBRIC if f"score_{k}" in keys})
        return cls(
            item_id=row["item_id"], reviewer_kind=row["reviewer_kind"],
            reviewer_id=row["reviewer_id"], action=row["action"], answer=row["answer"],
            rationale=row["rationale"] or "", reason=row["reason"] or "", rubric=rubric,
            created_at=datetime.fromisoformat(row["created_at"]),
        )  # fmt: skip
