"""The generator plug-in interface and what a generation round returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from raresupport.data.vignette import Task, Vignette
from raresupport.registry import Registry


class Reject(BaseModel):
    """An item (or a failed request) that did not make it, and why."""

    stage: str  # "generate" (teacher reply unusable) or "validate"
    reason: str
    item: dict[str, Any] = Field(default_factory=dict)


class GenerationResult(BaseModel):
    """Accepted-by-schema vignettes plus the bookkeeping the manifest reports."""

    vignettes: list[Vignette] = Field(default_factory=list)
    rejects: list[Reject] = Field(default_factory=list)
    #: counters such as requests, cache_hits, retries, http_429, http_5xx, timeouts, invalid_json
    events: dict[str, int] = Field(default_factory=dict)
    usage: dict[str, int] = Field(default_factory=dict)  # prompt_tokens, completion_tokens
    model: str | None = None
    template_hashes: dict[str, str] = Field(default_factory=dict)


@runtime_checkable
class Generator(Protocol):
    """Anything that writes vignettes for a disease.

    ``generate`` must be deterministic for (disease, n, tasks, seed) where the backend allows,
    and must never raise for a single bad item: bad items become ``Reject`` entries.
    """

    name: str

    def generate(
        self, disease: Any, n: int, tasks: Sequence[Task], seed: int
    ) -> GenerationResult: ...


#: name -> generator class. A class with a ``config_class`` (a pydantic model) is built as
#: ``cls(config)`` from its validated options; one without takes no options: ``cls()``.
generators: Registry[type] = Registry(
    "generators",
    protocol=Generator,
    instances=True,
    builtins=("raresupport.generate.grounded", "raresupport.generate.teacher"),
)
