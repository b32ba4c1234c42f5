"""Run scorers over items or benchmark files and produce the metrics.json structure.

``metrics.json``::

    {"benchmarks": {"<file stem>": {"n": .., "file": .., "answer_distribution": {..},
        "by_method": {"letter": {"overall": .., "overall_ci": [lo, hi],
                                 "by_task": {task: {"acc": .., "ci": [..], "n": ..}},
                                 "letter_distribution": {..}, "correct": {id: bool}, ..},
                      "loglik": {..}}}},
     "methods": [..], "system_prompt": ..}

plus one predictions.jsonl row per (benchmark, method, item).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raresupport.data.benchmark import MCQItem, load_benchmark
from raresupport.data.jsonl import write_json, write_jsonl
from raresupport.errors import ConfigError
from raresupport.evaluate.base import Prediction, model_device, scorers
from raresupport.evaluate.metrics import answer_distribution, summarize
from raresupport.models.adapter import adapter_off
from raresupport.models.precision import autocast

DEFAULT_METHODS: tuple[str, ...] = ("letter", "loglik")


@dataclass
class MethodResult:
    """One scorer's predictions on one item set, with its wall time."""

    method: str
    predictions: list[Prediction]
    seconds: float

    @property
    def questions_per_s(self) -> float:
        return len(self.predictions) / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> dict[str, Any]:
        """The per-method block of metrics.json (accuracy, intervals, timing)."""
        block = summarize(self.predictions)
        block["seconds"] = round(self.seconds, 3)
        block["questions_per_s"] = round(self.questions_per_s, 3)
        return block


def check_methods(methods: Sequence[str], backend_kind: str) -> None:
    """Refuse a method that is not registered or needs another backend kind (ConfigError)."""
    for method in methods:
        scorer = scorers.get(method)
        need = getattr(scorer, "backend", None)
        if need != backend_kind:
            raise ConfigError(
                f"method {method!r} scores a {need} backend, not a {backend_kind} one "
                f"(methods for {backend_kind}: {', '.join(_names_for(backend_kind)) or 'none'})"
            )


def _names_for(kind: str) -> list[str]:
    from raresupport.evaluate.base import scorer_names

    return scorer_names(kind)


def evaluate_model(
    backend: Any,
    items: Sequence[MCQItem],
    methods: Sequence[str] = DEFAULT_METHODS,
    system_prompt: str | None = None,
    batch_size: int = 8,
    *,
    progress: bool = True,
    mixed_precision: str = "auto",
    off_topic_base: bool = False,
    known: Mapping[str, Mapping[str, Prediction]] | None = None,
    **options: Any,
) -> dict[str, MethodResult]:
    """Score ``items`` with each named scoring rule over ``backend``.

    Args:
        backend: a :class:`~raresupport.models.LocalModel` or :class:`~raresupport.models.Endpoint`.
        methods: registered scorer names that read this kind of backend.
        mixed_precision: ``auto`` | ``bf16`` | ``no``: bf16 autocast for a local model's
            matmuls (:mod:`raresupport.models.precision`; ``EvalConfig.mixed_precision``).
        off_topic_base: items without notes (the retriever found them off-topic) are scored
            with the adapter switched off (``RetrievalConfig.off_topic``); items keep their
            order in the predictions.
        known: ``{method: {item id: Prediction}}`` already made for these very inputs (same
            model, prompt and notes, e.g. an item without notes in the plain cell): taken as
            they are, not scored again. A rule over another scorer (``pmi`` over ``loglik``)
            scored in the same call gets that scorer's predictions as ``given``; its
            ``seconds`` are then only its own extra passes.
        options: passed to every scorer (e.g. ``max_tokens`` for ``generate``).

    Returns:
        ``{method: MethodResult}`` in ``methods`` order.

    Raises:
        ConfigError: a method is unknown or needs another backend kind.
    """
    check_methods(methods, backend.kind)
    model = getattr(backend, "model", None)
    was_training = bool(getattr(model, "training", False))
    if hasattr(model, "eval"):
        model.eval()  # dropout off: scores must be deterministic
    local = backend.kind == "local"
    results: dict[str, MethodResult] = {}
    groups = [(list(range(len(items))), nullcontext)]
    if off_topic_base and local:
        groups = [([i for i, it in enumerate(items) if it.notes], nullcontext),
                  ([i for i, it in enumerate(items) if not it.notes], lambda: adapter_off(model))]
    try:
        for method in _bases_first(methods):
            scorer = scorers.get(method)
            over = results.get(getattr(scorer, "over", None) or "")
            start = time.perf_counter()
            have = (known or {}).get(method, {})
            preds: list[Any] = [have.get(item.id) for item in items]
            todo = [([i for i in index if preds[i] is None], ctx) for index, ctx in groups]
            for index, context in (g for g in todo if g[0]):
                given = {"given": [over.predictions[i] for i in index]} if over else {}
                with autocast(mixed_precision, model_device(model)) if local else nullcontext(), \
                        context():
                    got = scorer(
                        backend, [items[i] for i in index], system_prompt=system_prompt,
                        batch_size=batch_size, progress=progress, **given, **options,
                    )  # fmt: skip
                for i, pred in zip(index, got, strict=True):
                    preds[i] = pred
            results[method] = MethodResult(method, preds, time.perf_counter() - start)
    finally:
        if was_training:
            model.train()
    return {m: results[m] for m in methods}


def _bases_first(methods: Sequence[str]) -> list[str]:
    """``methods`` with each rule over another scorer (``pmi`` over ``loglik``) after the
    plain ones, so it can take their predictions instead of running their passes again."""
    over = [m for m in methods if getattr(scorers.get(m), "over", None)]
    return [m for m in methods if m not in over] + over


def benchmark_names(paths: Sequence[str | Path]) -> dict[str, Path]:
    """File stem -> path; a repeated stem gets its parent folder prepended to stay unique."""
    names: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        name = path.stem
        if name in names:
            name = f"{path.parent.name}-{path.stem}"
        base, i = name, 2
        while name in names:
            name, i = f"{base}-{i}", i + 1
        names[name] = path
    return names


def evaluate_benchmarks(
    backend: Any,
    benchmarks: Sequence[str | Path] | Mapping[str, Sequence[MCQItem]],
    methods: Sequence[str] = DEFAULT_METHODS,
    system_prompt: str | None = None,
    batch_size: int = 8,
    *,
    predictions_path: str | Path | None = None,
    progress: bool = True,
    known: Mapping[str, Mapping[str, Mapping[str, Prediction]]] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Evaluate several benchmarks (files, or ``{name: items}``) into the metrics.json shape.

    All files are read before any scoring, so a bad line fails fast rather than after minutes.
    ``known``: ``{benchmark: {method: {id: Prediction}}}`` reused as in :func:`evaluate_model`.
    """
    if isinstance(benchmarks, Mapping):
        sets = {name: (None, list(items)) for name, items in benchmarks.items()}
    else:
        named = benchmark_names(benchmarks)
        sets = {name: (str(path), load_benchmark(path)) for name, path in named.items()}
    check_methods(methods, backend.kind)  # before any file is scored
    out: dict[str, Any] = {"benchmarks": {}, "methods": list(methods)}
    out["system_prompt"] = system_prompt
    rows: list[dict[str, Any]] = []
    for name, (file, items) in sets.items():
        results = evaluate_model(
            backend, items, methods, system_prompt, batch_size,
            progress=progress, known=(known or {}).get(name), **options,
        )  # fmt: skip
        block: dict[str, Any] = {"n": len(items)}
        if file:
            block["file"] = file
        block["answer_distribution"] = answer_distribution(i.answer for i in items)
        block["by_method"] = {m: r.summary() for m, r in results.items()}
        out["benchmarks"][name] = block
        for method, result in results.items():
            rows.extend(p.to_row(benchmark=name, method=method) for p in result.predictions)
    if predictions_path is not None:
        write_jsonl(predictions_path, rows)
    return out


def read_predictions(path: str | Path) -> dict[str, dict[str, dict[str, Prediction]]]:
    """A predictions.jsonl back as ``{benchmark: {method: {id: Prediction}}}``."""
    from dataclasses import fields

    from raresupport.data.jsonl import iter_jsonl
    from raresupport.errors import DataError

    names = [f.name for f in fields(Prediction)]
    out: dict[str, dict[str, dict[str, Prediction]]] = {}
    for _, row in iter_jsonl(Path(path), DataError, "predictions file"):
        pred = Prediction(**{k: row[k] for k in names if k in row})
        out.setdefault(row["benchmark"], {}).setdefault(row["method"], {})[pred.id] = pred
    return out


def write_metrics(path: str | Path, metrics: Mapping[str, Any]) -> Path:
    """Write metrics.json atomically."""
    return write_json(path, metrics)
