"""What every scoring rule returns, the Scorer protocol and the scorer registry.

A scorer (scoring rule) maps items to one :class:`Prediction` each, reading a model backend
(:mod:`raresupport.models.backends`); accuracy, intervals and reports are computed from
predictions only, so new scorers (entry points in ``raresupport.scorers``) get them for free.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from raresupport.data.benchmark import MCQItem
from raresupport.registry import Registry


@dataclass
class Prediction:
    """One scored item: the predicted letter (None when unparseable) and per-option scores."""

    id: str
    task: str
    answer: str
    pred: str | None
    scores: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def correct(self) -> bool:
        return self.pred == self.answer

    def to_row(self, **context: Any) -> dict[str, Any]:
        """A JSON-ready row for predictions.jsonl (``context`` adds e.g. benchmark, method)."""
        return {**context, **asdict(self), "correct": self.correct}


@runtime_checkable
class Scorer(Protocol):
    """A scoring rule over a backend.

    ``scorer(backend, items, *, system_prompt, batch_size, progress, **options)`` returns one
    Prediction per item, in order. ``backend`` is the backend kind it reads: ``"local"``
    (:class:`~raresupport.models.backends.LocalModel`, logits) or ``"endpoint"``
    (:class:`~raresupport.models.backends.Endpoint`, text).
    """

    backend: str

    def __call__(
        self,
        backend: Any,
        items: Sequence[MCQItem],
        *,
        system_prompt: str | None = None,
        batch_size: int = 8,
        progress: bool = False,
        **options: Any,
    ) -> list[Prediction]: ...


#: scorer name -> scoring rule; built-ins: letter, loglik, and over loglik pmi, calibrated,
#: cad, replug (local); generate (endpoint)
scorers: Registry[Scorer] = Registry(
    "scorers",
    protocol=Scorer,
    builtins=("raresupport.evaluate.hf", "raresupport.evaluate.hf_rules",
              "raresupport.evaluate.endpoint"),
)


def scoring_rule(
    name: str, backend: str, over: str | None = None
) -> Callable[[Callable[..., Any]], Scorer]:
    """Decorator registering a function as scorer ``name`` over ``backend`` kind.

    ``over`` names the scorer whose predictions this rule recombines (e.g. ``pmi`` over
    ``loglik``): scored in the same call, those predictions reach the rule as ``given`` (one
    per item, in order) so it does not run their forward passes again.
    """

    def deco(fn: Callable[..., Any]) -> Scorer:
        fn.backend = backend  # type: ignore[attr-defined]
        fn.over = over  # type: ignore[attr-defined]
        scorers.add(name, fn)  # type: ignore[arg-type]
        return fn  # type: ignore[return-value]

    return deco


def scorer_names(backend: str | None = None, *, rules_over: bool = True) -> list[str]:
    """Registered scorer names, optionally only those reading ``backend`` (loads them).

    ``rules_over=False`` leaves out rules that recombine another scorer's scores (``pmi``,
    ``cad``, ...): ``--method all`` means the plain rules, the others are named one by one.
    """
    if backend is None and rules_over:
        return scorers.names()
    return [n for n, s in scorers.load_all().items()
            if backend in (None, getattr(s, "backend", None))
            and (rules_over or getattr(s, "over", None) is None)]  # fmt: skip


def best_letter(scores: dict[str, float]) -> str | None:
    """Highest-scoring letter; ties go to the earliest letter so results are deterministic."""
    finite = {k: v for k, v in scores.items() if not math.isnan(v)}
    return max(finite, key=finite.__getitem__) if finite else None


def chunks(seq: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most ``size`` elements."""
    size = max(1, int(size))
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def model_device(model: Any) -> Any:
    """Device of ``model``'s first parameter; CPU for anything without parameters."""
    import torch

    try:
        return next(model.parameters()).device
    except (StopIteration, AttributeError):  # no parameters, or not a torch module
        return torch.device("cpu")
