"""The benchmark interchange format: one multiple-choice item per JSONL line.

``{"id", "task", "question", "options": {"A": ..}, "answer"}`` with 2-6 option letters. Every
evaluator reads it; a bad line raises BenchmarkError naming file, line number and field.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from raresupport.errors import BenchmarkError, describe_validation_error

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


def parse_jsonl_line(path: Path, lineno: int, line: str, model: type[BaseModel], error: type):
    """Validate one JSONL line into ``model`` or raise ``error`` naming file:line and field."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise error(f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise error(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        raise error(describe_validation_error(f"{path}:{lineno}", exc)) from None


def load_benchmark(path: str | Path) -> list[MCQItem]:
    """Read an interchange JSONL file; blank lines are skipped, ids must be unique."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BenchmarkError(f"{path}: cannot read benchmark ({exc.strerror or exc})") from None
    items: list[MCQItem] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        item = parse_jsonl_line(path, lineno, line, MCQItem, BenchmarkError)
        if item.id in seen:
            raise BenchmarkError(
                f"{path}:{lineno}: id: duplicate id {item.id!r} (first on line {seen[item.id]})"
            )
        seen[item.id] = lineno
        items.append(item)
    if not items:
        raise BenchmarkError(f"{path}: benchmark has no items")
    return items


def write_jsonl(path: str | Path, rows: Iterable[BaseModel | dict]) -> Path:
    """Write models or dicts as JSONL atomically (temp file + rename), so a crash loses nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            data = row.model_dump(mode="json") if isinstance(row, BaseModel) else row
            fh.write(json.dumps(data, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path
