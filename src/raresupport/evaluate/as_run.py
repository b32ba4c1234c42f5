"""Evaluate exactly as a run did: the same model, adapter, prompt, scoring rules and notes.

``raresupport run`` evaluates each model (baseline, tuned) in two cells, without and with the
retrieved notes, through :func:`evaluate_cells`, and saves what fixes the result in
``DIR/eval/settings.json``. ``raresupport eval --run DIR --benchmark FILE`` reads those settings
back (:func:`evaluate_run`), so any other benchmark is scored exactly as the run scored its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from raresupport.errors import RareSupportError
from raresupport.evaluate import cache
from raresupport.evaluate.base import Prediction, best_letter
from raresupport.evaluate.rules import CAD_ALPHA

SETTINGS_FILE = "settings.json"
#: what a run saved before a retrieval setting existed did, so ``eval --run`` repeats it
BEFORE_SETTING: dict[str, Any] = {"option_notes": 0, "off_topic": "tuned"}


class RunSettingsError(RareSupportError):
    """A run folder lacks what ``eval --run`` needs, or its disease spec changed since."""


def eval_settings(config: Any, spec: Any) -> dict[str, Any]:
    """What fixes an evaluation result, from a RunConfig and its disease spec (JSON-ready)."""
    from raresupport.retrieve import spec_hash

    return {
        "model": config.model,
        "disease": config.disease,
        "spec_hash": spec_hash(spec),
        "system_prompt": spec.system_prompt,
        "methods": list(config.evaluate.methods),
        "headline": config.evaluate.headline,
        "normalization": config.evaluate.normalization,
        "cad_alpha": config.evaluate.cad_alpha,
        "batch_size": config.evaluate.batch_size,
        "mixed_precision": config.evaluate.mixed_precision,
        "retrieval": config.retrieval.model_dump(mode="json"),
    }


def evaluate_cells(
    settings: dict[str, Any],
    spec: Any,
    adapter: Path | None,
    benchmarks: Sequence[Path],
    out_dirs: dict[str, Path],
    base_predictions: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Load the model once and score ``benchmarks`` without notes and (when k > 0) with them.

    An item the retriever gives no notes has the same input in both cells, so the notes cell
    takes its prediction from the plain cell instead of scoring it again; with off-topic
    routing (``off_topic: base``) such an item is the untuned model's, taken from
    ``base_predictions`` (the untuned plain cell's predictions.jsonl) when given.

    Args:
        settings: :func:`eval_settings` output.
        spec: the disease spec notes are retrieved from.
        adapter: LoRA adapter folder, or None for the untuned model.
        out_dirs: ``{"plain": folder, "notes": folder}``; each gets metrics.json and
            predictions.jsonl. The plain cell's metrics.json is written last (the step's
            marker).
        base_predictions: the untuned model's plain-cell predictions.jsonl (optional).

    Returns:
        ``{"plain": metrics, "notes": metrics}`` (no ``notes`` when retrieval is off).
    """
    from raresupport.data.benchmark import load_benchmark
    from raresupport.evaluate.runner import (
        benchmark_names,
        evaluate_benchmarks,
        read_predictions,
        write_metrics,
    )
    from raresupport.models.backends import LocalModel
    from raresupport.retrieve import RetrievalConfig, load_retriever
    from raresupport.retrieve.notes import with_notes

    named = benchmark_names(list(benchmarks))
    sets = {name: load_benchmark(path) for name, path in named.items()}
    rcfg = RetrievalConfig.model_validate({**BEFORE_SETTING, **settings["retrieval"]})
    backend = LocalModel.load(settings["model"], adapter=adapter)
    base = _cache_parts(settings, backend.model) if adapter is None else None
    routed = adapter is not None and rcfg.off_topic == "base"
    cells = ["plain", "notes"] if rcfg.k > 0 else ["plain"]
    out: dict[str, dict[str, Any]] = {}
    stores: list[tuple[str, dict[str, Any], Path]] = []
    for cell in cells:
        items, known = sets, None
        if cell == "notes":
            retriever = load_retriever(spec, rcfg.retriever, **rcfg.options())
            items = {name: with_notes(its, retriever, rcfg) for name, its in sets.items()}
            same = base_predictions if routed else out_dirs["plain"] / "predictions.jsonl"
            if same is not None and Path(same).is_file():
                known = _without_notes(read_predictions(same), items)
        folder, parts = out_dirs[cell], None
        if base is not None:  # the untuned model's cells do not change: see evaluate/cache.py
            parts = {**base, "cell": cell,
                     "benchmarks": {n: cache.items_hash(its) for n, its in items.items()}}
            if (entry := cache.lookup(cache.score_key(parts))) is not None:
                out[cell] = _from_cache(entry, folder, named)
                continue
        metrics = evaluate_benchmarks(
            backend, items, settings["methods"], settings["system_prompt"],
            settings["batch_size"], predictions_path=folder / "predictions.jsonl",
            progress=False, normalization=settings["normalization"],
            cad_alpha=settings.get("cad_alpha", CAD_ALPHA),
            mixed_precision=settings.get("mixed_precision", "no"),  # runs before it: float32
            off_topic_base=cell == "notes" and routed, known=known,
        )  # fmt: skip
        for name, block in metrics["benchmarks"].items():
            block["file"] = str(named[name])
            if cell == "notes":
                block["with_notes"] = sum(bool(i.notes) for i in items[name])
                block["reused_without_notes"] = sum(len(v) for v in (known or {}).get(name,
                                                                                 {}).values())
        metrics["retrieval"] = rcfg.model_dump(mode="json") if cell == "notes" else None
        metrics["model"] = {"name": settings["model"], "adapter": str(adapter) if adapter else None}
        if parts is not None:
            metrics["score_cache"] = {"key": cache.score_key(parts), "hit": False}
            stores.append((cache.score_key(parts), parts, folder))
        out[cell] = metrics
    if "notes" in out:  # CAD from the two cells' scores: no forward pass
        noted = {name: {i.id for i in its if i.notes} for name, its in items.items()}
        add_contrast(out_dirs["plain"] / "predictions.jsonl",
                     out_dirs["notes"] / "predictions.jsonl", out["notes"], noted,
                     settings.get("cad_alpha", CAD_ALPHA))  # fmt: skip
    for cell in reversed(cells):  # notes first, plain (the marker) last
        write_metrics(out_dirs[cell] / "metrics.json", out[cell])
    for key, parts, folder in stores:
        cache.store(key, parts, {f: folder / f for f in CELL_FILES})
    return out


#: the variants :func:`add_contrast` adds to each rule of the notes cell
CONTRAST_VARIANTS = ("cad", "cad_adaptive")


def add_contrast(
    plain: Path, notes: Path, metrics: dict[str, Any], noted: dict[str, set[str]],
    alpha: float = CAD_ALPHA,
) -> None:  # fmt: skip
    """Context-aware decoding as decision-rule variants of the notes cell, from both cells'
    per-option scores (:func:`raresupport.evaluate.hf_rules.contrast`): no forward pass.

    Each plain rule (``letter``, ``loglik``) of the notes cell gets ``cad`` (fixed ``alpha``)
    and ``cad_adaptive`` (AdaCAD's per-item alpha) in its predictions' ``extra["variants"]``
    (``notes`` is rewritten) and its metrics block's ``variants``. An item that got no notes
    (``noted`` lacks it) has no contrast and keeps its pick.
    """
    from raresupport.data.jsonl import iter_jsonl, write_jsonl
    from raresupport.errors import DataError
    from raresupport.evaluate.base import scorers
    from raresupport.evaluate.hf_rules import contrast
    from raresupport.evaluate.metrics import variant_blocks
    from raresupport.evaluate.runner import read_predictions

    without = read_predictions(plain)
    rows = [row for _, row in iter_jsonl(notes, DataError, "predictions file")]
    preds: dict[tuple[str, str], list[Prediction]] = {}
    for row in rows:
        bench, method = row["benchmark"], row["method"]
        if getattr(scorers.get(method), "over", None) or not row.get("scores"):
            continue
        variants = row.setdefault("extra", {}).setdefault("variants", {})
        if row["id"] in noted.get(bench, set()):
            fixed, extra = contrast(row["scores"], without[bench][method][row["id"]].scores,
                                    alpha)  # fmt: skip
            variants["cad"], variants["cad_adaptive"] = best_letter(fixed), extra["variants"][
                "adaptive"]
        else:
            variants["cad"] = variants["cad_adaptive"] = row["pred"]
        fields = {k: row[k] for k in ("id", "task", "answer", "pred", "scores", "extra")}
        preds.setdefault((bench, method), []).append(Prediction(**fields))
    write_jsonl(notes, rows)
    for (bench, method), got in preds.items():
        block = metrics["benchmarks"][bench]["by_method"][method]
        block["variants"] = variant_blocks(got)


def _scored_by_run(run: Path, benchmarks: Sequence[Path]) -> bool:
    """Whether the run's untuned plain cell scored exactly these files under these names."""
    from raresupport.evaluate.runner import benchmark_names

    path = run / "eval" / "baseline" / "metrics.json"
    if not path.is_file():
        return False
    scored = json.loads(path.read_text(encoding="utf-8")).get("benchmarks", {})
    return all(
        name in scored and Path(scored[name].get("file", "")).resolve() == Path(file).resolve()
        for name, file in benchmark_names(list(benchmarks)).items()
    )


def _without_notes(preds: dict, items: dict[str, Sequence[Any]]) -> dict:
    """``{bench: {method: {id: Prediction}}}`` of ``preds`` for the items that got no notes."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, its in items.items():
        bare = {i.id for i in its if not i.notes}
        out[name] = {m: {i: p for i, p in by_id.items() if i in bare}
                     for m, by_id in preds.get(name, {}).items()}  # fmt: skip
    return out


#: what one cell writes, and so what the score cache keeps of it
CELL_FILES = ("predictions.jsonl", "metrics.json")


def _cache_parts(settings: dict[str, Any], model: Any) -> dict[str, Any]:
    """What fixes an untuned cell besides its items: base weights, prompt, rules, precision."""
    return {
        "kind": "cell",
        **cache.model_parts(model, settings.get("mixed_precision", "no")),
        **{k: settings[k] for k in ("system_prompt", "methods", "normalization", "batch_size")},
        # the cad scorer's alpha fixes its cells (the run's cad variants are computed anew)
        **({"cad_alpha": settings.get("cad_alpha", CAD_ALPHA)}
           if "cad" in settings["methods"] else {}),
    }


def _from_cache(entry: Path, folder: Path, named: dict[str, Path]) -> dict[str, Any]:
    """A cached cell's metrics; its predictions.jsonl restored into ``folder`` (the caller
    writes metrics.json, the step's marker, last)."""
    from raresupport.evaluate.report import load_metrics

    cache.restore(entry, {"predictions.jsonl": folder / "predictions.jsonl"})
    metrics = load_metrics(entry / "metrics.json")
    for name, block in metrics["benchmarks"].items():
        block["file"] = str(named.get(name, block.get("file")))
    metrics["score_cache"] = {"key": entry.name, "hit": True, "entry": str(entry)}
    return metrics


def evaluate_run(
    run_dir: Path | str, benchmarks: Sequence[Path], out_dir: Path | str, *, baseline: bool = False
) -> dict[str, Any]:
    """Score ``benchmarks`` as the run in ``run_dir`` scored its own; write into ``out_dir``.

    Writes ``out_dir/tuned/`` and ``out_dir/tuned+notes/`` (and the two baseline cells when
    ``baseline``) plus a report. Returns ``{cell: metrics}``.

    Raises:
        RunSettingsError: ``run_dir`` has no saved settings or adapter, or the disease spec
            changed since the run (notes would differ).
    """
    from raresupport.diseases import load_disease
    from raresupport.evaluate.report import write_report
    from raresupport.retrieve import spec_hash

    run, out = Path(run_dir), Path(out_dir)
    path = run / "eval" / SETTINGS_FILE
    if not path.is_file():
        raise RunSettingsError(f"{path}: not found; is {run} a finished `raresupport run` folder?")
    settings = json.loads(path.read_text(encoding="utf-8"))
    adapter = run / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise RunSettingsError(f"{adapter}: no trained adapter in this run folder")
    spec = load_disease(settings["disease"]).spec
    if spec_hash(spec) != settings["spec_hash"]:
        raise RunSettingsError(
            f"{path}: the {settings['disease']} spec changed since this run "
            f"(hash {spec_hash(spec)} != {settings['spec_hash']}); its notes would differ"
        )
    cells: dict[str, Any] = {}
    sides = [("baseline", None), ("tuned", adapter)] if baseline else [("tuned", adapter)]
    for side, adp in sides:
        base = None
        if adp is not None:
            base = (out if baseline else run / "eval") / "baseline" / "predictions.jsonl"
            if not baseline and not _scored_by_run(run, benchmarks):
                base = None  # the run's untuned predictions are for other files
        got = evaluate_cells(settings, spec, adp, benchmarks,
                             {"plain": out / side, "notes": out / f"{side}+notes"},
                             base_predictions=base)  # fmt: skip
        cells[side] = got["plain"]
        if "notes" in got:
            cells[f"{side}+notes"] = got["notes"]
    if baseline:
        write_report(
            out, cells["baseline"], cells["tuned"], settings["headline"],
            cells={k: v for k, v in cells.items() if k.endswith("+notes")},
            title=f"raresupport eval --run {run}", extra={"run": str(run), "settings": settings},
        )  # fmt: skip
    return cells
