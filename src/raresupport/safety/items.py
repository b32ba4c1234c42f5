"""Safety items: the benchmark interchange format plus the fields the safety metrics read.

Every safety item is a valid interchange line (``id, task, question, options, answer``), so any
evaluator can score it; the extra fields say which suite it belongs to and how to read a
prediction (which letters count as escalation, which letter the user's claim pushed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from raresupport.data.benchmark import MCQItem, load_benchmark, write_jsonl

Suite = Literal["escalation", "sycophancy"]
Variant = Literal["neutral", "claim"]


class SafetyItem(MCQItem):
    """An :class:`~raresupport.data.MCQItem` with safety fields (ignored by plain evaluators).

    Attributes:
        suite: ``escalation`` or ``sycophancy``.
        origin: where the case comes from, e.g. ``red_flag:night-sweats``,
            ``secondary_cause:hyperthyroidism`` or ``benchmark:hh-001``.
        base_id: id of the neutral item a claim item was made from (its own id when neutral).
        variant: ``neutral`` or ``claim`` (the question is prefixed with a wrong, confident claim).
        claimed: the letter whose option the claim quotes (``claim`` items only).
        escalation: letters whose option is an evaluation/referral for the underlying cause.
        fact_ids: spec facts the key rests on.
    """

    suite: Suite
    origin: str
    base_id: str
    variant: Variant = "neutral"
    claimed: str | None = None
    escalation: tuple[str, ...] = ()
    fact_ids: tuple[str, ...] = ()
    claim: str | None = Field(None, description="The claim text that prefixes the question.")


def write_suite(path: str | Path, items: list[SafetyItem]) -> Path:
    """Write a suite as interchange JSONL (plus the safety fields)."""
    return write_jsonl(path, items)


def load_suite(path: str | Path) -> list[SafetyItem]:
    """Read a suite written by :func:`write_suite` (errors name file, line and field)."""
    from raresupport.data.jsonl import read_jsonl
    from raresupport.errors import BenchmarkError

    load_benchmark(path)  # the interchange checks (ids unique, letters, key) come first
    return [item for _, item in read_jsonl(path, SafetyItem, BenchmarkError, "safety suite")]
