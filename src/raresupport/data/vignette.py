"""Synthetic vignettes: a case, a question, four options, the key, a rationale and its facts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from raresupport.data.benchmark import MCQItem

Task = Literal["diagnosis", "treatment", "counseling"]
TASKS: tuple[Task, ...] = ("diagnosis", "treatment", "counseling")
Letter = Literal["A", "B", "C", "D"]
Status = Literal["generated", "accepted", "rejected", "approved", "corrected"]


class Provenance(BaseModel):
    """Where an item came from, enough to reproduce or audit it (never any secret)."""

    model_config = ConfigDict(frozen=True)

    generator: str
    model: str | None = None
    template_hash: str | None = None
    seed: int | None = None
    created_at: datetime | None = None  # None keeps offline output byte-identical per seed
    #: set when a reviewer approved or corrected the item (``raresupport.review``)
    verification: Literal["expert_verified"] | None = None
    reviewer_kind: str | None = None
    reviewer_id: str | None = None


class Vignette(BaseModel):
    """One training item; ``to_mcq()`` gives the interchange form evaluators read."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    disease: str
    task: Task
    case: str = Field(min_length=20)
    question: str = Field(min_length=5)
    options: dict[Letter, str]
    answer: Letter
    rationale: str = Field(min_length=10)
    fact_ids: list[str] = Field(min_length=1)
    provenance: Provenance
    status: Status = "generated"
    tags: list[str] = Field(
        default_factory=list,
        description="Item variants a generator marks: 'followup' (a multi-visit case), 'claim' "
        "(the patient's confident wrong claim precedes it), 'avoid' (the key is what to avoid).",
    )
    #: retrieved notes the item is trained with (RAFT; ``raresupport.retrieve.notes``); written
    #: only when set, so generated datasets stay as they were
    notes: str = ""

    @field_validator("options")
    @classmethod
    def _four_options(cls, v: dict[str, str]) -> dict[str, str]:
        if sorted(v) != ["A", "B", "C", "D"]:
            raise ValueError(f"need options A, B, C, D; got {sorted(v)}")
        if any(not t.strip() for t in v.values()):
            raise ValueError("an option text is empty")
        if len({t.strip().lower() for t in v.values()}) < 4:
            raise ValueError("two options have the same text")
        return {k: v[k].strip() for k in "ABCD"}

    @model_validator(mode="after")
    def _key_is_an_option(self) -> Vignette:
        if self.answer not in self.options:
            raise ValueError(f"answer {self.answer!r} is not among the options")
        return self

    @model_serializer(mode="wrap")
    def _drop_empty_notes(self, handler: SerializerFunctionWrapHandler) -> dict:
        data = handler(self)
        if not self.notes:
            data.pop("notes", None)
        return data

    def to_mcq(self) -> MCQItem:
        """The item as a benchmark question: case, blank line, question."""
        return MCQItem(id=self.id, task=self.task, case=self.case, question=self.question,
                       options=dict(self.options), answer=self.answer, notes=self.notes)


def load_vignettes(path) -> list[Vignette]:
    """Read a vignette JSONL file (train.jsonl, val.jsonl); errors name file, line and field."""
    from raresupport.data.jsonl import read_jsonl
    from raresupport.errors import DataError

    return [v for _, v in read_jsonl(path, Vignette, DataError, "vignette file")]
