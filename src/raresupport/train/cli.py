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

from raresupport.config import shown_default
from raresupport.models.base import DEFAULT_MODEL
from raresupport.progress import make_console, tagged
from raresupport.train.config import TrainConfig

#: one source of truth for defaults: the CLI shows what TrainConfig would use
_DEFAULTS = {name: field.default for name, field in TrainConfig.model_fields.items()}


def _default(name: str) -> str:
    return shown_default(_DEFAULTS[name])


def train_command(
    source: Path = typer.Argument(
        ..., help="Dataset folder with train.jsonl (see `raresupport generate`) or a JSONL file."
    ),
    out: Path = typer.Option(..., "--out", help="Output folder for the adapter (resumable)."),
    model: str = typer.Option(
        DEFAULT_MODEL, "--model", help="Base model: HF id, local folder or short name."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="A TrainConfig JSON/YAML file (e.g. a run config's train "
        "section); flags given here override it."
    ),
    epochs: float | None = typer.Option(
        None, "--epochs", min=0.01, help="Passes over the data." + _default("epochs")
    ),
    lr: float | None = typer.Option(
        None, "--lr", min=0.0, help="Peak learning rate." + _default("lr")
    ),
    r: int | None = typer.Option(None, "--r", min=1, help="LoRA rank." + _default("r")),
    alpha: int | None = typer.Option(
        None, "--alpha", min=1, help="LoRA alpha." + _default("alpha")
    ),
    top_layers: int | None = typer.Option(
        None, "--top-layers", min=1, help="Adapt only the top N layers." + _default("top_layers")
    ),
    style: list[str] = typer.Option(
        [], "--style", help="Prompt style to train: letter, cloze (repeat)." + _default("styles")
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, help="Sequences per micro-batch." + _default("batch_size")
    ),
    grad_accum: int | None = typer.Option(
        None, "--grad-accum", min=1, help="Micro-batches per step." + _default("grad_accum")
    ),
    max_length: int | None = typer.Option(
        None, "--max-length", min=16, help="Tokens per sequence." + _default("max_length")
    ),
    system_prompt: str | None = typer.Option(
        None, "--system-prompt",
        help="System prompt" + shown_default("the dataset's disease's, else the default one"),
    ),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from checkpoints."),
    merge: bool = typer.Option(False, "--merge", help="Also save a merged model to OUT/merged."),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed: same seed, same adapter (on CPU)." + _default("seed")
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Train a LoRA adapter on SOURCE and save it to OUT (standard PEFT format)."""
    from accelerate import PartialState

    from raresupport.config import read_config_file, validated
    from raresupport.data.jsonl import read_json
    from raresupport.train.data import dataset_system_prompt
    from raresupport.train.lora import SUMMARY_FILE, train_lora

    fields: dict[str, Any] = read_config_file(config) if config is not None else {}
    given = dict(
        epochs=epochs, lr=lr, r=r, alpha=alpha, top_layers=top_layers,
        styles=tuple(style) or None, batch_size=batch_size, grad_accum=grad_accum,
        max_length=max_length, seed=seed, system_prompt=system_prompt, merge=merge or None,
    )  # fmt: skip
    fields.update({k: v for k, v in given.items() if v is not None})
    if fields.get("system_prompt") is None:
        fields["system_prompt"] = dataset_system_prompt(source)
    train_config = validated(TrainConfig, fields, str(config or "train options"))
    adapter = train_lora(model, source, out, train_config, resume=resume, progress=progress)
    if PartialState().is_main_process:  # the one that wrote the summary
        s = read_json(adapter / SUMMARY_FILE)
        make_console().print(tagged(
            "ok", "green", f"adapter {adapter}: {s['steps']} steps, loss {s['first_loss']:.3f} "
            f"-> {s['final_loss']:.3f}, {s['tokens_per_s']} tokens/s"))


def main() -> None:  # pragma: no cover - `python -m` / `accelerate launch -m` entry point
    from raresupport.errors import RareSupportError

    try:
        typer.run(train_command)
    except RareSupportError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":  # pragma: no cover
    main()
