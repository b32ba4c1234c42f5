"""Reviewer plug-ins, found by name: ``spec``, ``llm``, ``cli``, ``web`` (+ entry points).

A reviewer decides the items of a round that it has not decided yet and writes each decision to
the store as it is made, so an interrupted review resumes where it stopped.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from raresupport.review.reviewers.base import Reviewer, decide_each, reviewers

#: built-in name -> module that registers it (imported on first use: rich, starlette, openai)
BUILTINS = {
    "spec": "raresupport.review.reviewers.spec",
    "llm": "raresupport.review.reviewers.llm",
    "cli": "raresupport.review.reviewers.terminal",
    "web": "raresupport.review.reviewers.web",
}


def load_builtins() -> None:
    for module in BUILTINS.values():
        import_module(module)


def get_reviewer(name: str, **options: Any) -> Reviewer:
    """Instantiate the reviewer registered as ``name`` with its options.

    Raises:
        RegistryError: unknown name (the message lists the known ones).
    """
    if name in BUILTINS:
        import_module(BUILTINS[name])
    elif name not in reviewers:
        load_builtins()  # so the error lists every built-in
    return reviewers.get(name)(**options)


def reviewer_names() -> list[str]:
    load_builtins()
    return reviewers.names()


__all__ = ["Reviewer", "decide_each", "get_reviewer", "reviewer_names", "reviewers"]
