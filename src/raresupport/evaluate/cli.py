"""``raresupport eval``: score a model on interchange benchmark files, write metrics + predictions.

A plain typer-annotated function; the top-level CLI registers it. Errors are raised as
:class:`~raresupport.errors.RareSupportError` subclasses, which the CLI prints as one line.
With ``--adapter``, the adapter's record supplies the base model and the system prompt it was
trained with, so ``eval`` scores exactly the prompts ``train`` (or ``run``) trained.
"""

from __future__ import annotations

from pathlib import Path

import typer

from raresupport.config import shown_default
from raresupport.errors import ConfigError, ModelError
from raresupport.models.base import DEFAULT_MODEL


def _method_help() -> str:
    from raresupport.evaluate.base import scorers

    return (f"{' | '.join(scorers.names())} | all (every plain rule the model's backend "
            "supports; rules over loglik such as pmi or cad are named one at a time).")


def resolve_methods(method: str, backend_kind: str) -> tuple[str, ...]:
    """Expand ``--method``: ``all`` is every plain registered scorer for the backend kind
    (rules over another scorer's scores, e.g. ``pmi``, only when named).

    Raises:
        ConfigError: unknown method, or one that needs another backend.
    """
    from raresupport.evaluate.base import scorer_names, scorers

    method = method.strip().lower()
    if method == "all":
        return tuple(scorer_names(backend_kind, rules_over=False))
    if method not in scorers:
        raise ConfigError(f"--method: unknown {method!r}; use {', '.join(scorers.names())}, all")
    needs = getattr(scorers.get(method), "backend", None)
    if needs != backend_kind:
        hint = "an OpenAI-compatible --base-url" if needs == "endpoint" else "a local model"
        raise ConfigError(
            f"--method {method} needs {hint}; for this model use "
            f"{', '.join(scorer_names(backend_kind))}"
        )
    return (method,)


def eval_command(
    model: str | None = typer.Option(
        None, help="HF id, local folder, or short name; not with --run"
        + shown_default(f"the adapter's base, else {DEFAULT_MODEL}")
    ),
    adapter: Path | None = typer.Option(None, help="PEFT/LoRA adapter folder to apply."),
    benchmark: list[Path] = typer.Option(..., "--benchmark", help="Interchange JSONL (repeat)."),
    method: str = typer.Option("all", help=_method_help()),
    base_url: str | None = typer.Option(None, help="OpenAI-compatible endpoint (generate)."),
    batch_size: int = typer.Option(8, min=1, help="Items per forward pass / parallel requests."),
    system_prompt: str | None = typer.Option(
        None,
        help="Override the system prompt" + shown_default("the adapter's, else the default one"),
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Refuse an adapter trained on another base model."
    ),
    max_tokens: int | None = typer.Option(
        None, "--max-tokens", min=1,
        help="Reply budget per item for --method generate (room for a reasoning model to "
        "think) [default: 4096].",
    ),
    out: Path = typer.Option(..., help="Output folder for metrics.json and predictions.jsonl."),
    run: Path | None = typer.Option(
        None, "--run", help="A `raresupport run` folder: score exactly as that run scored its "
        "own benchmark (its model, adapter, prompt, scoring rules and notes).",
    ),
    with_baseline: bool = typer.Option(
        False, "--with-baseline", help="With --run: also score the untuned model (4 cells)."
    ),
    no_score_cache: bool = typer.Option(
        False, "--no-score-cache", help="Score the untuned model again instead of reading its "
        "cells and safety suites from the score cache ($RARESUPPORT_CACHE/scores).",
    ),
) -> None:
    """Evaluate a model on multiple-choice benchmarks (accuracy per task with 95 % CIs)."""
    from raresupport.evaluate import cache

    if no_score_cache:
        cache.disable()
    from raresupport.data.benchmark import load_benchmark
    from raresupport.evaluate.runner import evaluate_benchmarks, write_metrics
    from raresupport.models.adapter import read_record
    from raresupport.models.backends import Endpoint, LocalModel
    from raresupport.models.base import DEFAULT_MODEL

    if run is not None:
        return _eval_as_run(run, list(benchmark), out, with_baseline, model)
    methods = resolve_methods(method, "endpoint" if base_url else "local")
    for path in benchmark:  # fail on a bad line before spending time loading a model
        load_benchmark(path)
    if base_url and adapter is not None:
        raise ModelError("--adapter applies to local models; an endpoint serves its own weights")
    record = read_record(adapter) if adapter is not None else None
    if record:
        model = model or record.get("base_model")
        system_prompt = system_prompt if system_prompt is not None else record["system_prompt"]
    if base_url:
        if not model:
            raise ConfigError("--model: name the endpoint's model")
        backend = Endpoint(model, base_url)
    else:
        backend = LocalModel.load(model or DEFAULT_MODEL, adapter=adapter, strict=strict)
    metrics = evaluate_benchmarks(
        backend, list(benchmark), methods, system_prompt, batch_size,
        predictions_path=Path(out) / "predictions.jsonl",
        **({"max_tokens": max_tokens} if max_tokens is not None else {}),
    )  # fmt: skip
    metrics["model"] = backend.describe()
    path = write_metrics(Path(out) / "metrics.json", metrics)
    for name, block in metrics["benchmarks"].items():
        figures = ", ".join(
            f"{m} {100 * b['overall']:.1f}% [{100 * b['overall_ci'][0]:.0f}-"
            f"{100 * b['overall_ci'][1]:.0f}]"
            for m, b in block["by_method"].items()
        )
        typer.echo(f"{name} (n={block['n']}): {figures}")
    typer.echo(f"wrote {path}")


def _eval_as_run(run: Path, benchmark: list[Path], out: Path, baseline: bool, model) -> None:
    from raresupport.data.benchmark import load_benchmark
    from raresupport.evaluate.as_run import evaluate_run

    if model is not None:
        raise ConfigError("--run fixes the model; leave out --model")
    for path in benchmark:
        load_benchmark(path)
    cells = evaluate_run(run, benchmark, out, baseline=baseline)
    for cell, metrics in cells.items():
        for name, block in metrics["benchmarks"].items():
            figures = ", ".join(f"{m} {100 * b['overall']:.1f}%"
                                for m, b in block["by_method"].items())  # fmt: skip
            typer.echo(f"{cell:15s} {name} (n={block['n']}): {figures}")
    typer.echo(f"wrote {out}")
