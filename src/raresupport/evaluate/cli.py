"""``raresupport eval``: score a model on interchange benchmark files, write metrics + predictions.

A plain typer-annotated function; the top-level CLI registers it. Errors are raised as
:class:`~raresupport.errors.RareSupportError` subclasses, which the CLI prints as one line.
"""

from __future__ import annotations

from pathlib import Path

import typer

from raresupport.errors import ModelError, RareSupportError

HF_METHODS = ("letter", "loglik")
METHOD_CHOICES = ("letter", "loglik", "generate", "all")


def resolve_methods(method: str, base_url: str | None) -> tuple[str, ...]:
    """Expand ``--method``: ``all`` is letter+loglik for local models, generate for endpoints."""
    method = method.strip().lower()
    if method not in METHOD_CHOICES:
        raise RareSupportError(f"--method: unknown {method!r}; use {', '.join(METHOD_CHOICES)}")
    if base_url:
        if method in HF_METHODS:
            raise RareSupportError(
                f"--method {method} needs model logits; an endpoint (--base-url) supports "
                "only 'generate'"
            )
        return ("generate",)
    if method == "generate":
        raise RareSupportError("--method generate needs an OpenAI-compatible --base-url")
    return HF_METHODS if method == "all" else (method,)


def eval_command(
    model: str | None = typer.Option(
        None, help="HF id, local folder, or short name (smollm2-135m); not with --run."
    ),
    adapter: Path | None = typer.Option(None, help="PEFT/LoRA adapter folder to apply."),
    benchmark: list[Path] = typer.Option(..., "--benchmark", help="Interchange JSONL (repeat)."),
    method: str = typer.Option("all", help="letter | loglik | generate | all."),
    base_url: str | None = typer.Option(None, help="OpenAI-compatible endpoint (generate)."),
    batch_size: int = typer.Option(8, min=1, help="Items per forward pass / parallel requests."),
    system_prompt: str | None = typer.Option(None, help="Override the default system prompt."),
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
) -> None:
    """Evaluate a model on multiple-choice benchmarks (accuracy per task with 95 % CIs)."""
    from raresupport.data.benchmark import load_benchmark
    from raresupport.evaluate.runner import evaluate_benchmarks, write_metrics

    if run is not None:
        return _eval_as_run(run, list(benchmark), out, with_baseline, model)
    if model is None:
        raise RareSupportError("--model is required (or --run DIR to score as a run did)")

    methods = resolve_methods(method, base_url)
    for path in benchmark:  # fail on a bad line before spending time loading a model
        load_benchmark(path)
    if base_url and adapter is not None:
        raise ModelError("--adapter applies to local models; an endpoint serves its own weights")
    if base_url:
        target, tokenizer, options = model, None, {"base_url": base_url}
        if max_tokens is not None:
            options["max_tokens"] = max_tokens
    else:
        from raresupport.models.load import load_model

        target, tokenizer = load_model(model, adapter=adapter)
        options = {}
    metrics = evaluate_benchmarks(
        target, tokenizer, list(benchmark), methods, system_prompt, batch_size,
        predictions_path=Path(out) / "predictions.jsonl", **options,
    )  # fmt: skip
    metrics["model"] = {"name": model, "adapter": str(adapter) if adapter else None}
    if base_url:
        metrics["model"]["base_url"] = base_url
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
        raise RareSupportError("--run fixes the model; leave out --model")
    for path in benchmark:
        load_benchmark(path)
    cells = evaluate_run(run, benchmark, out, baseline=baseline)
    for cell, metrics in cells.items():
        for name, block in metrics["benchmarks"].items():
            figures = ", ".join(f"{m} {100 * b['overall']:.1f}%"
                                for m, b in block["by_method"].items())  # fmt: skip
            typer.echo(f"{cell:15s} {name} (n={block['n']}): {figures}")
    typer.echo(f"wrote {out}")
