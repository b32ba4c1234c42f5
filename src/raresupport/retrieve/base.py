"""The retriever plug-in family: what a retriever returns, its Protocol, registry and cache."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from raresupport.registry import Registry
from raresupport.retrieve.passages import Passage
from raresupport.spec.models import DiseaseSpec


class Hit(BaseModel):
    """One retrieved passage and its relevance score (higher is more relevant)."""

    model_config = ConfigDict(frozen=True)

    passage: Passage
    score: float


@runtime_checkable
class Retriever(Protocol):
    """``retrieve(query, k)``: up to ``k`` hits, best first.

    Hits below the retriever's relevance cut-off are dropped, so a query that has nothing to do
    with the disease returns ``[]`` (and the prompt then carries no notes).
    """

    def retrieve(self, query: str, k: int = 3) -> list[Hit]: ...


#: retriever name -> factory ``(spec, **options) -> Retriever``; built-in: ``bm25``
retrievers: Registry[Any] = Registry(
    "retrievers", protocol=Retriever, instances=True, builtins=("raresupport.retrieve.bm25",)
)

_CACHE: dict[tuple[str, str, str], Retriever] = {}
_CACHE_MAX = 16


def spec_hash(spec: DiseaseSpec) -> str:
    """A stable hash of the spec's content (the index cache key)."""
    blob = json.dumps(spec.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def load_retriever(spec: DiseaseSpec, name: str = "bm25", **options: Any) -> Retriever:
    """The retriever ``name`` over ``spec``'s passages, built once per (spec hash, options).

    Args:
        spec: the disease spec whose passages are indexed.
        name: a registered retriever (``retrievers.names()``).
        **options: passed to the retriever's factory (e.g. ``cutoff`` for ``bm25``).

    Raises:
        RegistryError: ``name`` is not a registered retriever.
    """
    factory = retrievers.get(name)
    key = (spec_hash(spec), name, json.dumps(options, sort_keys=True, default=str))
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = factory(spec, **options)
    return _CACHE[key]
