"""The ``raresupport`` command: one thin command per pipeline step, plus ``run``.

Bad input exits non-zero with a one-line error (file, line, field), never a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from raresupport import __version__
from raresupport.config import EvalConfig, GenerateConfig, shown_default
from raresupport.errors import RareSupportError
from raresupport.models.base import DEFAULT_MODEL
from raresupport.progress import make_console, tagged
from raresupport.train.config import TrainConfig

app = typer.Typer(
    name="raresupport",
    help="Build a support LLM for a rare disease: spec -> generate -> train -> evaluate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
spec_app = typer.Typer(help="Check disease specs.", no_args_is_help=True)
benchmark_app = typer.Typer(help="Check benchmark (interchange JSONL) files.", no_args_is_help=True)
app.add_typer(spec_app, name="spec")
app.add_typer(benchmark_app, name="benchmark")
console = make_console()
err_console = make_console(stderr=True)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors and OS errors (paths that cannot be read or written) into
    ``error: <one line>`` and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RareSupportError as exc:
            err_console.print(tagged("error:", "bold red", str(exc)))
            raise typer.Exit(2) from None
        except OSError as exc:  # an --out that is a file, a read-only or full disk, ...
            where = f"{exc.filename}: " if exc.filename else ""
            err_console.print(tagged("error:", "bold red", f"{where}{exc.strerror or exc}"))
            raise typer.Exit(2) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        console.print(f"raresupport {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """raresupport: trustworthy support LLMs for rare diseases."""
    _progress_to_stderr()


class _StderrHandler:
    """Marker mix-in: the handler the CLI added (added once per process)."""


def _progress_to_stderr() -> None:
    """Progress lines go to stderr when no progress bar can be drawn there (piped, a log file)."""
    import logging

    class StderrHandler(_StderrHandler, logging.StreamHandler):
        @property
        def stream(self):  # the current stderr at each line (tests swap it)
            return sys.stderr

        @stream.setter
        def stream(self, _value) -> None:
            pass

    progress = logging.getLogger("raresupport.progress")
    if sys.stderr.isatty() or any(isinstance(h, _StderrHandler) for h in progress.handlers):
        return
    progress.addHandler(StderrHandler())
    progress.setLevel(logging.INFO)


@app.command("diseases")
@friendly
def diseases_command() -> None:
    """List registered diseases (built-in and installed through entry points)."""
    from raresupport.diseases import disease_names, load_disease

    table = Table("id", "name", "facts", "benchmark items", "folder")
    for name in disease_names():
        d = load_disease(name)
        n_bench = _count_lines(d.benchmark_path) if d.benchmark_path else 0
        table.add_row(name, d.spec.name, str(len(d.spec.facts)), str(n_bench), str(d.root))
    console.print(table)


def _count_lines(path: Path) -> int:
    from raresupport.data.jsonl import iter_jsonl

    return sum(1 for _ in iter_jsonl(path, RareSupportError, "benchmark"))


@spec_app.command("validate")
@friendly
def spec_validate(
    path: Path = typer.Argument(
        ..., help="spec.yaml, a disease folder holding one, or a registered disease id."
    ),
) -> None:
    """Validate a disease spec; print the file and field path of the first problem."""
    from raresupport.diseases import load_disease
    from raresupport.spec import load_spec

    if not path.exists() and path.suffix != ".yaml":  # a registered id such as hyperhidrosis
        path = load_disease(str(path)).root
    spec_file = path / "spec.yaml" if path.is_dir() else path
    spec = load_spec(spec_file)
    console.print(tagged("ok", "green", f"{spec_file}: {spec.name} — {len(spec.facts)} facts, "
                         f"{len(spec.treatments)} treatments, {len(spec.sources)} sources"))


@benchmark_app.command("validate")
@friendly
def benchmark_validate(
    paths: list[Path] = typer.Argument(..., help="Interchange JSONL files."),
) -> None:
    """Validate benchmark files; print file, line and field of the first bad line."""
    from collections import Counter

    from raresupport.data import load_benchmark

    for path in paths:
        items = load_benchmark(path)
        tasks = Counter(i.task for i in items)
        letters = Counter(i.answer for i in items)
        by = f"tasks {dict(sorted(tasks.items()))}; answers {dict(sorted(letters.items()))}"
        console.print(tagged("ok", "green", f"{path}: {len(items)} items; {by}"))


def _generator_help() -> str:
    from raresupport.generate.base import generators

    return "Registered generator: " + ", ".join(generators.names()) + " [default: grounded]."


@app.command("generate")
@friendly
def generate_command(
    disease: str = typer.Argument(..., help="Disease id (see `raresupport diseases`) or folder."),
    n: int = typer.Option(180, "--n", min=1, help="Number of accepted vignettes to produce."),
    out: Path = typer.Option(..., "--out", help="Output folder (train/val/rejects/manifest)."),
    generator: str = typer.Option("grounded", "--generator", "--teacher", help=_generator_help()),
    model: str | None = typer.Option(None, "--model", help="Teacher model name."),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible base URL."),
    api_key_env: str | None = typer.Option(
        None, "--api-key-env", help="Environment variable holding the API key."
    ),
    concurrency: int | None = typer.Option(None, "--concurrency", min=1, help="Parallel requests."),
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds per request."),
    max_tokens: int | None = typer.Option(
        None, "--max-tokens", min=1, help="Token limit per teacher reply (room for reasoning)."
    ),
    templates: Path | None = typer.Option(
        None, "--templates", help="Folder of prompt templates overriding the disease's."
    ),
    option: list[str] = typer.Option(
        [], "--option", "-o", help="Another generator option as KEY=VALUE (repeat)."
    ),
    avoid: list[Path] = typer.Option(
        [], "--avoid", help="Benchmark JSONL whose questions must not leak into training data."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed: same seed, same dataset."),
    people_val: int = typer.Option(
        GenerateConfig().people_val, "--people-val", min=0,
        help="Items of the people validation split (val_people.jsonl; 0: none).",
    ),
) -> None:
    """Write validated synthetic vignettes for DISEASE into OUT.

    Options other than --n, --out, --avoid and --seed belong to the generator: only those given
    are passed on, and one the generator does not take is an error.
    """
    from raresupport.config import key_values
    from raresupport.diseases import load_disease
    from raresupport.generate import get_generator
    from raresupport.generate.dataset import generate_dataset, shortfall

    d = load_disease(disease)
    options = {
        "model": model, "base_url": base_url, "api_key_env": api_key_env,
        "concurrency": concurrency, "timeout_s": timeout, "max_tokens": max_tokens,
        "templates_dir": templates,
        **key_values(option, "--option"),
    }  # fmt: skip
    gen = get_generator(generator, options, cache_dir=out / ".cache" / generator)
    m = generate_dataset(d, gen, n, out, seed=seed, avoid=avoid, people_val=people_val)
    c = m.counts
    by = f"by task {c['by_task']}; letters {c['by_letter']}"
    console.print(tagged("ok", "green", f"{out}: {c['train']} train, {c['val']} val, "
                         f"{c['val_people']} people val, {c['rejects']} rejects; {by}"))
    if (short := shortfall(m)) is not None:
        err_console.print(tagged("warning:", "bold yellow", short))


@app.command("run")
@friendly
def run_command(
    disease: str = typer.Argument(..., help="Disease id (see `raresupport diseases`) or folder."),
    out: Path = typer.Option(..., "--out", help="Run folder (resumable)."),
    model: str | None = typer.Option(
        None, "--model",
        help="Base model: HF id, local folder or short name" + shown_default(DEFAULT_MODEL),
    ),
    n: int | None = typer.Option(
        None, "--n", min=4,
        help="Synthetic vignettes to generate" + shown_default(GenerateConfig().n),
    ),
    seed: int | None = typer.Option(
        None, "--seed",
        help="Seed for generation and training" + shown_default(GenerateConfig().seed),
    ),
    epochs: float | None = typer.Option(
        None, "--epochs", help="Training epochs" + shown_default(TrainConfig().epochs)
    ),
    lr: float | None = typer.Option(
        None, "--lr", help="Learning rate" + shown_default(TrainConfig().lr)
    ),
    headline: str | None = typer.Option(
        None, "--headline",
        help="Method each model is judged by, fixed before scoring"
        + shown_default(EvalConfig().headline),
    ),
    teacher: str | None = typer.Option(
        None, "--teacher", "--generator", help=_generator_help()
    ),
    teacher_model: str | None = typer.Option(None, "--teacher-model", help="Teacher model."),
    base_url: str | None = typer.Option(None, "--base-url", help="Teacher base URL."),
    config: Path | None = typer.Option(
        None, "--config", help="A RunConfig JSON/YAML file; flags given here override it."
    ),
    no_score_cache: bool = typer.Option(
        False, "--no-score-cache", help="Score the untuned model again instead of reading its "
        "cells and safety suites from the score cache ($RARESUPPORT_CACHE/scores).",
    ),
) -> None:
    """Generate -> train -> evaluate baseline and tuned -> report, resuming where it stopped."""
    from raresupport.config import RunConfig, override, read_config_file, validated
    from raresupport.evaluate import cache
    from raresupport.pipeline import run_pipeline

    if no_score_cache:
        cache.disable()

    data: dict[str, Any] = read_config_file(config) if config is not None else {}
    # flags override the file only when given; otherwise the file, then RunConfig's defaults
    where = str(config or "options")
    for path, value in (
        ("disease", disease), ("model", model), ("generate.generator", teacher),
        ("generate.options.model", teacher_model), ("generate.options.base_url", base_url),
        ("generate.n", n), ("generate.seed", seed), ("train.seed", seed),
        ("train.epochs", epochs), ("train.lr", lr), ("evaluate.headline", headline),
    ):  # fmt: skip
        override(data, path, value, where)
    cfg = validated(RunConfig, data, where)
    paths = run_pipeline(cfg, out, log=console.print)
    console.print(tagged("report", "green", str(paths["html"])))


#: modules defining a plug-in family (a helper adding a family adds its module here)
FAMILY_MODULES = [
    "raresupport.diseases", "raresupport.generate.base", "raresupport.evaluate.base",
    "raresupport.models.base", "raresupport.retrieve.base", "raresupport.assist.backend",
    "raresupport.review.reviewers",
]


@app.command("plugins")
@friendly
def plugins_command() -> None:
    """List every plug-in family and its registered names (built-in and entry points)."""
    from importlib import import_module

    from raresupport.registry import REGISTRIES

    for module in FAMILY_MODULES:
        import_module(module)
    table = Table("family", "names", "entry-point group")
    for family, registry in sorted(REGISTRIES.items()):
        table.add_row(family, ", ".join(registry.names()), registry.group)
    console.print(table)


def _register_step_commands() -> None:
    """Commands whose code lives with their pipeline step."""
    from raresupport.evaluate.cli import eval_command

    app.command("eval")(friendly(eval_command))
    from raresupport.evaluate.export import export_lm_eval_command

    export_app = typer.Typer(help="Export benchmarks to other tools.", no_args_is_help=True)
    export_app.command("lm-eval")(friendly(export_lm_eval_command))
    app.add_typer(export_app, name="export")
    from raresupport.scaffold.cli import new_disease_command

    app.command("new-disease")(friendly(new_disease_command))
    from raresupport.safety.cli import register as register_safety

    register_safety(app, friendly)
    from raresupport.assist.cli import register as register_assist

    register_assist(app, friendly)
    from raresupport.review.cli import register as register_review

    register_review(app, friendly)  # `loop`, `review agreement`
    try:
        from raresupport.train.cli import train_command
    except ImportError:  # pragma: no cover - during development only
        return
    app.command("train")(friendly(train_command))


_register_step_commands()


def run() -> None:  # pragma: no cover - console entry point wrapper
    sys.exit(app())
