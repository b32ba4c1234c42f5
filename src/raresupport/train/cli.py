"""``raresupport train``: LoRA-tune a model on a vignette dataset (or on a disease, generating it).

Also runnable as a module, which is how several processes are used (data-parallel):

* GPUs: ``accelerate launch --num_processes 4 -m raresupport.train.cli DATA --out runs/x``
* CPU processes (gloo): ``ACCELERATE_USE_CPU=true torchrun --nproc_per_node 2 -m
  raresupport.train.cli DATA --out runs/x``
"""

from __future__ import annotations

from pathlib import Path

import typer

from raresupport.train.config import TrainConfig

#: one source of truth for defaults: the CLI shows what TrainConfig would use
_DEFAULTS = {name: field.default for name, field in TrainConfig.model_fields.items()}


def _dataset(source: str, out: Path, n: int, seed: int) -> Path:
    """A folder or file of vignettes; a disease id is first turned into one (offline generator)."""
    path = Path(source).expanduser()
    if path.is_file() or (path / "train.jsonl").is_file():
        return path
    from raresupport.diseases import load_disease
    from raresupport.generate import get_generator
    from raresupport.generate.dataset import generate_dataset

    disease = load_disease(source)  # raises a one-line error naming the known diseases
    data_dir = out / "data"
    if not (data_dir / "train.jsonl").is_file():
        generate_dataset(disease, get_generator("grounded"), n, data_dir, seed=seed)
    return data_dir


def train_command(
    source: str = typer.Argument(
        ..., help="Dataset folder with train.jsonl, a vignette JSONL file, or a disease id."
    ),
    out: Path = typer.Option(..., "--out", help="Output folder for the adapter (resumable)."),
    model: str = typer.Option(
        "smollm2-135m", "--model", help="Base model: HF id, local folder or smollm2-135m."
    ),
    epochs: float = typer.Option(
        _DEFAULTS["epochs"], "--epochs", min=0.01, help="Passes over the data."
    ),
    lr: float = typer.Option(_DEFAULTS["lr"], "--lr", min=0.0, help="Peak learning rate."),
    r: int = typer.Option(_DEFAULTS["r"], "--r", min=1, help="LoRA rank."),
    alpha: int = typer.Option(_DEFAULTS["alpha"], "--alpha", min=1, help="LoRA alpha."),
    batch_size: int = typer.Option(
        _DEFAULTS["batch_size"], "--batch-size", min=1, help="Sequences per micro-batch."
    ),
    grad_accum: int = typer.Option(
        _DEFAULTS["grad_accum"], "--grad-accum", min=1, help="Micro-batches per step."
    ),
    max_length: int = typer.Option(
        _DEFAULTS["max_length"], "--max-length", min=16, help="Tokens per sequence."
    ),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from checkpoints."),
    merge: bool = typer.Option(False, "--merge", help="Also save a merged model to OUT/merged."),
    seed: int = typer.Option(
        _DEFAULTS["seed"], "--seed", help="Seed: same seed, same adapter (on CPU)."
    ),
    n: int = typer.Option(180, "--n", min=4, help="Vignettes to make if SOURCE is a disease."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Train a LoRA adapter on SOURCE and save it to OUT (standard PEFT format)."""
    import json

    from accelerate import PartialState
    from rich.console import Console

    from raresupport.train.lora import SUMMARY_FILE, train_lora

    config = TrainConfig(
        epochs=epochs, lr=lr, r=r, alpha=alpha, batch_size=batch_size, grad_accum=grad_accum,
        max_length=max_length, merge=merge, seed=seed,
    )  # fmt: skip
    data = _dataset(source, out, n, seed)
    adapter = train_lora(model, data, out, config, resume=resume, progress=progress)
    if PartialState().is_main_process:  # the one that wrote the summary
        s = json.loads((adapter / SUMMARY_FILE).read_text(encoding="utf-8"))
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
