"""The benchmark interchange format: one multiple-choice item per JSONL line.

``{"id", "task", "question", "options": {"A": ..}, "answer"}`` with 2-6 option letters. Every
evaluator reads it; a bad line raises BenchmarkError naming file, line number and field.
"""

from __future__ import annotations

import string
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from raresupport.data.jsonl import parse_jsonl_line, read_jsonl, write_jsonl
from raresupport.errors import BenchmarkError

__all__ = ["LETTERS", "MCQItem", "load_benchmark", "parse_jsonl_line", "write_jsonl"]

LETTERS = string.ascii_uppercase[:6]


class MCQItem(BaseModel):
    """One multiple-choice question with its key."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1)
    task: str = Field(min_length=1)
    question: str = Field(min_length=1)
    options: dict[str, str]
    answer: str
    notes: str = Field(
        "", exclude=True,
        description="Retrieved notes shown above the question (``raresupport.chat.notes_block``"
        "); set at run time by retrieval and never written to a file.",
    )  # fmt: skip
    note_scores: tuple[float, ...] = Field(
        (), exclude=True,
        description="The retrieval score of each note in ``notes``, in order (REPLUG weights "
        "its notes by them); set with ``notes``, never written to a file.",
    )  # fmt: skip

    @model_validator(mode="before")
    @classmethod
    def _vignette_case(cls, data: object) -> object:
        """A vignette line (generated ``train``/``val``/``val_people`` files) keeps its case:
        the question becomes ``case + blank line + question``, as ``Vignette.to_mcq`` does."""
        if isinstance(data, dict) and isinstance(data.get("case"), str) and data["case"].strip():
            question = str(data.get("question", "")).strip()
            data = {**data, "question": f"{data['case'].strip()}\n\n{question}"}
        return data

    @model_validator(mode="after")
    def _check(self) -> MCQItem:
        letters = list(self.options)
        if not 2 <= len(letters) <= 6:
            raise ValueError(f"options: need 2-6 options, got {len(letters)}")
        if letters != list(LETTERS[: len(letters)]):
            raise ValueError(f"options: letters must be A, B, ... in order, got {letters}")
        if any(not str(v).strip() for v in self.options.values()):
            raise ValueError("options: an option text is empty")
        if self.answer not in self.options:
            raise ValueError(f"answer: {self.answer!r} is not one of {letters}")
        return self


def load_benchmark(path: str | Path) -> list[MCQItem]:
    """Read an interchange JSONL file; blank lines are skipped, ids must be unique.

    Raises:
        BenchmarkError: one line naming the file (and line, field or byte offset): unreadable,
            not UTF-8 text, invalid JSON, an invalid item, a duplicate id, or no items.
    """
    path = Path(path)
    items: list[MCQItem] = []
    seen: dict[str, int] = {}
    for lineno, item in read_jsonl(path, MCQItem, BenchmarkError, "benchmark"):
        if item.id in seen:
            raise BenchmarkError(
                f"{path}:{lineno}: id: duplicate id {item.id!r} (first on line {seen[item.id]})"
            )
        seen[item.id] = lineno
        items.append(item)
    if not items:
        raise BenchmarkError(f"{path}: benchmark has no items")
    return items
