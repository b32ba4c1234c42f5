"""CLI: ``raresupport loop`` and ``raresupport review agreement|serve`` (a typer sub-app)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from raresupport.config import GenerateConfig, shown_default
from raresupport.models.base import DEFAULT_MODEL
from raresupport.progress import make_console, tagged
from raresupport.review.config import LoopConfig, ReviewConfig

_LOOP = LoopConfig.model_fields

console = make_console()
review_app = typer.Typer(
    help="Expert review: more reviewers for a loop's items; agreement between reviewers.",
    no_args_is_help=True,
)


def loop_command(
    disease: str = typer.Argument(..., help="Disease id (see `raresupport diseases`) or folder."),
    out: Path = typer.Option(..., "--out", help="Loop folder (resumable)."),
    rounds: int | None = typer.Option(
        None, "--rounds", min=0, help="Feedback rounds" + shown_default(_LOOP["rounds"].default)
    ),
    reviewer: str | None = typer.Option(
        None, "--reviewer", help="Reviewer plug-in: spec, llm, cli, web, ..."
        + shown_default(ReviewConfig().reviewer)
    ),
    reviewer_option: list[str] = typer.Option(
        [], "--reviewer-option", help="KEY=VALUE option of the reviewer (repeatable), e.g. "
        "model=gpt-4o base_url=http://127.0.0.1:8000/v1 for llm.",
    ),  # fmt: skip
    items: int | None = typer.Option(
        None, "--items", min=1, help="Fresh items per round" + shown_default(ReviewConfig().n_items)
    ),
    model: str | None = typer.Option(
        None, "--model", help="Base model" + shown_default(DEFAULT_MODEL)
    ),
    n: int | None = typer.Option(
        None, "--n", min=4, help="Vignettes in v1" + shown_default(GenerateConfig().n)
    ),
    retrain: str | None = typer.Option(
        None, "--retrain", help="'resume' the previous adapter or train from 'scratch'"
        + shown_default(_LOOP["retrain"].default)
    ),
    config: Path | None = typer.Option(
        None, "--config", help="A LoopConfig JSON/YAML file; flags given here override it."
    ),
    no_score_cache: bool = typer.Option(
        False, "--no-score-cache", help="Score the untuned model again instead of reading its "
        "cells and safety suites from the score cache ($RARESUPPORT_CACHE/scores).",
    ),
) -> None:
    """Train, then R rounds of: answer fresh items -> review -> dataset v(N+1) -> retrain."""
    from raresupport.config import key_values, override, read_config_file
    from raresupport.evaluate import cache

    if no_score_cache:
        cache.disable()
    from raresupport.config import validated as _validated
    from raresupport.review.config import LoopConfig
    from raresupport.review.rounds import run_loop

    data: dict[str, Any] = read_config_file(config) if config is not None else {}
    where = str(config or "options")
    for path, value in (
        ("run.disease", disease), ("rounds", rounds), ("retrain", retrain), ("run.model", model),
        ("run.generate.n", n), ("review.reviewer", reviewer), ("review.n_items", items),
    ):  # fmt: skip
        override(data, path, value, where)
    for key, value in key_values(reviewer_option, "--reviewer-option").items():
        override(data, f"review.options.{key}", value, where)
    cfg = _validated(LoopConfig, data, where)
    paths = run_loop(cfg, out, log=console.print)
    console.print(tagged("report", "green", str(paths["html"])))


@review_app.command("run")
def review_run_command(
    folder: Path = typer.Argument(..., help="A loop folder (its review.sqlite is used)."),
    reviewer: str = typer.Option(..., "--reviewer", help="Reviewer plug-in: spec, llm, cli, web."),
    reviewer_option: list[str] = typer.Option(
        [], "--reviewer-option", help="KEY=VALUE option of the reviewer (repeatable)."
    ),
    round_: int | None = typer.Option(None, "--round", help="Only this round's items."),
) -> None:
    """Have another reviewer decide a loop's items (for agreement; datasets are unchanged)."""
    import json

    from raresupport.config import key_values
    from raresupport.diseases import load_disease
    from raresupport.errors import DataError
    from raresupport.review.reviewers import get_reviewer
    from raresupport.review.store import ReviewStore

    path, cfg = folder / "review.sqlite", folder / "loop_config.json"
    if not path.is_file() or not cfg.is_file():
        raise DataError(f"{folder}: not a loop folder (needs review.sqlite and loop_config.json)")
    disease = load_disease(json.loads(cfg.read_text(encoding="utf-8"))["run"]["disease"])
    chosen = get_reviewer(reviewer, **key_values(reviewer_option, "--reviewer-option"))
    store = ReviewStore(path)
    made = chosen.review(store, store.items(round_), disease)
    console.print(f"{chosen.kind}:{chosen.id} made {made} decision(s) in {path}")


@review_app.command("agreement")
def agreement_command(
    folder: Path = typer.Argument(..., help="A loop folder, or a review.sqlite file."),
) -> None:
    """Raw agreement and Cohen's kappa between every pair of reviewers, on shared items."""
    from raresupport.errors import DataError
    from raresupport.review.agreement import pairwise_agreement
    from raresupport.review.models import RUBRIC
    from raresupport.review.store import ReviewStore

    console = make_console()  # made per call: honours COLUMNS
    path = folder / "review.sqlite" if folder.is_dir() else folder
    if not path.is_file():
        raise DataError(f"{path}: no review store here")
    rows = pairwise_agreement(ReviewStore(path).decisions())
    if not rows:
        console.print(f"{path}: fewer than two reviewers have decided items; nothing to compare")
        return
    table = Table("reviewer A", "reviewer B", "shared items", "dimension", "n", "agreement",
                  "Cohen's kappa", title=f"Agreement ({path})")  # fmt: skip

    def fmt(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    for row in rows:
        a, b = row["reviewers"]
        for dim in ("decision", *RUBRIC):
            block = row[dim]
            kind = "" if dim == "decision" else " (quadratic-weighted)"
            table.add_row(a, b, str(row["shared_items"]), dim + kind, str(block["n"]),
                          fmt(block["agreement"]), fmt(block["kappa"]))  # fmt: skip
    console.print(table)


def register(app: typer.Typer, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Add ``loop`` and ``review`` to the main CLI (``wrap`` turns errors into one line)."""
    app.command("loop")(wrap(loop_command))
    for command in review_app.registered_commands:
        command.callback = wrap(command.callback)
    app.add_typer(review_app, name="review")
