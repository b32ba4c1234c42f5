"""Score the safety suites with a model and compute all safety metrics (``safety.json``).

Predictions the evaluation step already made are reused: the neutral benchmark items of the
sycophancy suite are the benchmark items themselves, and the mode-collapse and OOD figures
read the benchmark and out-of-domain predictions. Only the escalation items and the claim
versions are scored here.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from raresupport.data.benchmark import MCQItem, load_benchmark, write_jsonl
from raresupport.safety.config import SafetyConfig
from raresupport.safety.emergency import emergency_layer_metrics
from raresupport.safety.metrics import (
    accuracy_metrics,
    collapse_metrics,
    escalation_metrics,
    sycophancy_metrics,
)
from raresupport.safety.suites import build_suites

SAFETY_JSON = "safety.json"
PREDICTIONS = "safety_predictions.jsonl"
SUITES_DIR = "safety"


def _score(model, tokenizer, items, methods, known, **kw) -> dict[str, dict[str, str | None]]:
    """``{method: {id: pred}}`` for ``items``, scoring only what ``known`` lacks."""
    from raresupport.evaluate.runner import evaluate_model
    from raresupport.models.backends import LocalModel

    preds: dict[str, dict[str, str | None]] = defaultdict(dict)
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)  # same items: one call, so a
    for method in methods:  # rule over loglik (pmi, cad, ...) takes loglik's passes
        have = known.get(method, {})
        preds[method].update({i.id: have[i.id] for i in items if i.id in have})
        groups[tuple(i.id for i in items if i.id not in have)].append(method)
    for ids, group in groups.items():
        if ids:
            todo = [i for i in items if i.id in set(ids)]
            backend = LocalModel(model, tokenizer)
            for method, result in evaluate_model(backend, todo, group, **kw).items():
                preds[method].update({p.id: p.pred for p in result.predictions})
    return {m: preds[m] for m in methods}


def _rows_by_bench(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """predictions.jsonl rows -> ``{benchmark: {method: {id: pred}}}``."""
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        out[row["benchmark"]][row["method"]][row["id"]] = row["pred"]
    return out


def disease_suites(disease: Any, config: SafetyConfig) -> dict[str, list[Any]]:
    """The suites for a disease (spec, plus its curated benchmark when configured)."""
    bench = load_benchmark(disease.benchmark_path) if disease.benchmark_path else []
    return build_suites(
        disease.spec, bench if config.claims_on_benchmark else (), variants=config.variants,
        seed=config.seed, emergencies=config.emergencies,
    )  # fmt: skip


def evaluate_safety(
    model: Any,
    tokenizer: Any,
    disease: Any,
    *,
    methods: Sequence[str] = ("letter", "loglik"),
    system_prompt: str | None = None,
    batch_size: int = 8,
    config: SafetyConfig | None = None,
    benchmark_rows: Iterable[Mapping[str, Any]] | None = None,
    out_dir: str | Path | None = None,
    progress: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """All safety metrics for one model on one disease.

    Args:
        model, tokenizer: as for :func:`raresupport.evaluate.evaluate_model`.
        disease: a :class:`~raresupport.Disease` (spec, benchmark.jsonl, ood.jsonl).
        benchmark_rows: predictions.jsonl rows of an evaluation of the disease's benchmark and
            OOD files with the same model (reused); None scores them here.
        out_dir: if given, writes ``safety.json`` and ``safety_predictions.jsonl`` there.

    Returns:
        ``{"suites": {name: n}, "escalation", "sycophancy", "collapse", "ood"}``: one block per
        method in each (see :mod:`raresupport.safety.metrics`); ``emergency_rules``: the
        assistant's emergency layer (no model) on generated patient-voiced cases
        (:func:`~raresupport.safety.emergency.emergency_layer_metrics`).
    """
    started = time.perf_counter()
    config = config or SafetyConfig()
    bench = load_benchmark(disease.benchmark_path) if disease.benchmark_path else []
    ood = load_benchmark(disease.ood_path) if disease.ood_path else []
    suites = disease_suites(disease, config)
    kw = {"system_prompt": system_prompt, "batch_size": batch_size, "progress": progress,
          **options}  # fmt: skip
    rows = _rows_by_bench(benchmark_rows or ())
    bench_preds = rows.get("benchmark") or _score(model, tokenizer, bench, methods, {}, **kw)
    ood_preds = rows.get("ood") or _score(model, tokenizer, ood, methods, {}, **kw)
    esc = _score(model, tokenizer, suites["escalation"], methods, {}, **kw)
    known = {m: {**bench_preds.get(m, {}), **esc.get(m, {})} for m in methods}
    syco = _score(model, tokenizer, suites["sycophancy"], methods, known, **kw)
    result = {
        "methods": list(methods),
        "suites": {name: len(items) for name, items in suites.items()},
        "escalation": escalation_metrics(suites["escalation"], esc),
        "sycophancy": sycophancy_metrics(suites["sycophancy"], syco),
        "collapse": collapse_metrics(bench, bench_preds) if bench else {},
        "ood": accuracy_metrics(ood, ood_preds) if ood else {},
        "by_style": style_metrics(disease.benchmark_path, bench, bench_preds) if bench else {},
        "emergency_rules": emergency_layer_metrics(disease.spec, seed=config.seed),
    }
    result["seconds"] = round(time.perf_counter() - started, 3)
    if out_dir is not None:
        out = Path(out_dir)
        write_jsonl(out / PREDICTIONS, _prediction_rows(suites, esc, syco))
        _write_json(out / SAFETY_JSON, result)
    return result


def style_metrics(path: Path, items: Sequence[MCQItem], preds) -> dict[str, Any]:
    """Benchmark accuracy per item ``style`` (an optional field of the benchmark's lines, e.g.
    ``multi-visit``: the longitudinal cases reported as their own task), ``{style: {method:
    block}}``; {} when the file has no styles."""
    styles: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        row = json.loads(line) if line.strip() else {}
        if isinstance(row.get("style"), str):
            styles[row["id"]] = row["style"]
    groups: dict[str, list[MCQItem]] = defaultdict(list)
    for item in items:
        if item.id in styles:
            groups[styles[item.id]].append(item)
    return {s: accuracy_metrics(g, preds) for s, g in sorted(groups.items())}


def _prediction_rows(suites: Mapping[str, Sequence[MCQItem]], *preds_by_suite):
    for (name, items), preds in zip(suites.items(), preds_by_suite, strict=True):
        for method, by_id in preds.items():
            for item in items:
                if item.id in by_id:
                    yield {"suite": name, "method": method, "id": item.id,
                           "answer": item.answer, "pred": by_id[item.id]}  # fmt: skip


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_safety(path: str | Path) -> dict[str, Any] | None:
    """A ``safety.json`` (or the folder holding one); None when absent."""
    path = Path(path)
    path = path / SAFETY_JSON if path.is_dir() else path
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def safety_steps(config: Any, disease: Any, out: Path) -> list[tuple[str, Path, Any]]:
    """The ``run`` pipeline's safety steps: (name, done-marker, function) for baseline, tuned.

    Each runs after that model's evaluation step and reuses its ``predictions.jsonl``.
    """
    if not config.safety.enabled:
        return []

    def step(label: str, adapter: Path | None) -> tuple[str, Path, Any]:
        folder = out / "eval" / label

        def fn() -> None:
            from raresupport.evaluate import cache
            from raresupport.models.load import load_model
            from raresupport.safety.items import write_suite

            suites = disease_suites(disease, config.safety)
            for name, items in suites.items():
                write_suite(out / SUITES_DIR / f"{name}.jsonl", items)
            model, tokenizer = load_model(config.model, adapter=adapter)
            rows = _read_rows(folder / "predictions.jsonl")
            files = {f: folder / f for f in (SAFETY_JSON, PREDICTIONS)}
            parts = None if adapter is not None else _cache_parts(config, disease, model, rows,
                                                                   suites)
            if parts is not None and (entry := cache.lookup(cache.score_key(parts))):
                cache.restore(entry, files)  # the untuned model's suites do not change
                result = load_safety(files[SAFETY_JSON])
                result["score_cache"] = {"key": entry.name, "hit": True, "entry": str(entry)}
                _write_json(files[SAFETY_JSON], result)
                return
            evaluate_safety(
                model, tokenizer, disease, methods=config.evaluate.methods,
                system_prompt=disease.spec.system_prompt, batch_size=config.evaluate.batch_size,
                config=config.safety, benchmark_rows=rows,
                out_dir=folder, normalization=config.evaluate.normalization,
                mixed_precision=config.evaluate.mixed_precision,
            )  # fmt: skip
            if parts is not None:
                cache.store(cache.score_key(parts), parts, files)

        return (f"safety {label}", folder / SAFETY_JSON, fn)

    return [step("baseline", None), step("tuned", out / "adapter")]


def _cache_parts(config: Any, disease: Any, model: Any, rows: list[dict[str, Any]],
                 suites: dict[str, list[Any]]) -> dict:
    """What fixes the untuned model's safety results (evaluate/cache.py key parts)."""
    from raresupport.evaluate import cache

    sets = {"benchmark": disease.benchmark_path, "ood": disease.ood_path}
    return {
        "kind": "safety",
        **cache.model_parts(model, config.evaluate.mixed_precision),
        "system_prompt": disease.spec.system_prompt,
        "methods": list(config.evaluate.methods),
        "normalization": config.evaluate.normalization,
        "batch_size": config.evaluate.batch_size,
        "safety": config.safety.model_dump(mode="json"),
        "suites": {name: cache.items_hash(items) for name, items in suites.items()},
        "sets": {k: cache.items_hash(load_benchmark(p)) for k, p in sets.items() if p},
        "reused": cache.items_hash(sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))),
    }


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    from raresupport.data.jsonl import iter_jsonl
    from raresupport.errors import DataError

    return [row for _, row in iter_jsonl(path, DataError, "predictions file")]
