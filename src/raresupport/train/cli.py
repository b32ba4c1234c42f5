"""``raresupport train``: LoRA-tune a model on a vignette dataset (``raresupport generate`` makes
one). Training takes a dataset; ``raresupport run`` orchestrates generation and training.

Defaults come from :class:`~raresupport.train.config.TrainConfig` (the same as ``run``'s), and
the system prompt defaults to that of the disease the dataset was generated for, so
``generate`` + ``train`` + ``eval --adapter`` reproduce ``run``.

Also runnable as a module, which is how several processes are used (data-parallel):

* GPUs: ``accelerate launch --num_processes 4 -m raresupport.train.cli DATA --out runs/x``
* CPU processes (gloo): ``ACCELERATE_USE_CPU=true torchrun --nproc_per_node 2 -m
  raresupport.train.cli DATA --out runs/x``
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from raresupport.models.base import DEFAULT_MODEL
from raresupport.train.config import TrainConfig

#: one source of truth for defaults: the CLI shows what TrainConfig would use
_DEFAULTS = {name: field.default for name, field in TrainConfig.model_fields.items()}


def train_command(
    source: Path = typer.Argument(
        ..., help="Dataset folder with train.jsonl (see `raresupport generate`) or a JSONL file."
    ),
    out: Path = typer.Option(..., "--out", help="Output folder for the adapter (resumable)."),
    model: str = typer.Option(
        DEFAULT_MODEL, "--model", help="Base model: HF id, local folder or short name."
    ),
    epochs: float = typer.Option(
        _DEFAULTS["epochs"], "--epochs", min=0.01, help="Passes over the data."
    ),
    lr: float = typer.Option(_DEFAULTS["lr"], "--lr", min=0.0, help="Peak learning rate."),
    r: int = typer.Option(_DEFAULTS["r"], "--r", min=1, help="LoRA rank."),
    alpha: int = typer.Option(_DEFAULTS["alpha"], "--alpha", min=1, help="LoRA alpha."),
    top_layers: int | None = typer.Option(
        _DEFAULTS["top_layers"], "--top-layers", min=1, help="Adapt only the top N layers."
    ),
    style: list[str] = typer.Option(
        list(_DEFAULTS["styles"]), "--style", help="Prompt style to train (letter, cloze; repeat)."
    ),
    batch_size: int = typer.Option(
        _DEFAULTS["batch_size"], "--batch-size", min=1, help="Sequences per micro-batch."
    ),
    grad_accum: int = typer.Option(
        _DEFAULTS["grad_accum"], "--grad-accum", min=1, help="Micro-batches per step."
    ),
    max_length: int = typer.Option(
        _DEFAULTS["max_length"], "--max-length", min=16, help="Tokens per sequence."
    ),
    system_prompt: str | None = typer.Option(
        None, "--system-prompt",
        help="System prompt [default: the dataset's disease's, else the default one].",
    ),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from checkpoints."),
    merge: bool = typer.Option(False, "--merge", help="Also save a merged model to OUT/merged."),
    seed: int = typer.Option(
        _DEFAULTS["seed"], "--seed", help="Seed: same seed, same adapter (on CPU)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Train a LoRA adapter on SOURCE and save it to OUT (standard PEFT format)."""
    from accelerate import PartialState
    from rich.console import Console

    from raresupport.config import validated
    from raresupport.data.jsonl import read_json
    from raresupport.train.data import dataset_system_prompt
    from raresupport.train.lora import SUMMARY_FILE, train_lora

    fields: dict[str, Any] = dict(
        epochs=epochs, lr=lr, r=r, alpha=alpha, top_layers=top_layers, styles=tuple(style),
        batch_size=batch_size, grad_accum=grad_accum, max_length=max_length, merge=merge,
        seed=seed, system_prompt=system_prompt or dataset_system_prompt(source),
    )  # fmt: skip
    config = validated(TrainConfig, fields, "train options")
    adapter = train_lora(model, source, out, config, resume=resume, progress=progress)
    if PartialState().is_main_process:  # the one that wrote the summary
        s = read_json(adapter / SUMMARY_FILE)
        Console().print(
            f"[green]ok[/] adapter {adapter}: {s['steps']} steps, loss {s['first_loss']:.3f} -> "
            f"{s['final_loss']:.3f}, {s['tokens_per_s']} tokens/s",
            highlight=False,
        )


def main() -> None:  # pragma: no cover - `python -m` / `accelerate launch -m` entry point
    from raresupport.errors import RareSupportError

    try:
        typer.run(train_command)
    except RareSupportError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":  # pragma: no cover
    main()
