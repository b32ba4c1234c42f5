"""Reviewer plug-ins, found by name: ``spec``, ``llm``, ``cli``, ``web`` (+ entry points).

A reviewer decides the items of a round that it has not decided yet and writes each decision to
the store as it is made, so an interrupted review resumes where it stopped.
"""

from __future__ import annotations

from typing import Any

from raresupport.review.reviewers.base import Reviewer, decide_each, reviewers


def get_reviewer(name: str, **options: Any) -> Reviewer:
    """Instantiate the reviewer registered as ``name`` with its options (built-ins ``spec``,
    ``llm``, ``cli``, ``web`` are imported on first lookup).

    Raises:
        RegistryError: unknown name (the message lists the known ones).
    """
    return reviewers.get(name)(**options)


def reviewer_names() -> list[str]:
    return reviewers.names()


__all__ = ["Reviewer", "decide_each", "get_reviewer", "reviewer_names", "reviewers"]
