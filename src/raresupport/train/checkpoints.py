"""Checkpoints (adapter, optimizer, scheduler, RNG, step) in ``out_dir/checkpoints/step-N``,
written atomically, and the fingerprint that stops a resume under another config or data."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from raresupport.data.jsonl import iter_jsonl, write_json, write_jsonl
from raresupport.errors import RareSupportError
from raresupport.tokens import Example
from raresupport.train.config import TrainConfig

CHECKPOINTS = "checkpoints"
LOG_FILE = "train_log.jsonl"
STATE_FILE = "trainer_state.json"
#: fields that do not change what is learned, so changing them may not block a resume
_RUNTIME_FIELDS = {"save_every_steps", "keep_checkpoints", "log_every", "merge",
                   "cache_frozen_layers"}  # the same loss either way (tests/train/test_lora.py)


def fingerprint(
    config: TrainConfig, model_name: str, examples: Sequence[Example], world_size: int = 1
) -> str:
    """Hash of what determines the run: a resume under a different one would mix two runs."""
    h = hashlib.sha256()
    h.update(json.dumps(config.model_dump(exclude=_RUNTIME_FIELDS), sort_keys=True).encode())
    h.update(f"{model_name}\0{world_size}".encode())
    for e in examples:
        h.update(json.dumps([e.input_ids, e.labels]).encode())
    return h.hexdigest()[:16]


def rng_state() -> dict[str, Any]:
    import numpy as np

    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    import numpy as np

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoints(out_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first (a half-written one has no state file)."""
    root = out_dir / CHECKPOINTS
    found = [p for p in root.glob("step-*") if (p / STATE_FILE).is_file()] if root.is_dir() else []
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


@dataclass
class TrainState:
    """Where training stands; saved with every checkpoint."""

    step: int = 0
    tokens: int = 0
    target_tokens: int = 0
    padded_tokens: int = 0
    train_seconds: float = 0.0
    losses: list[float] = field(default_factory=list)


def save_checkpoint(
    out_dir: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    state: TrainState,
    rng: dict[str, Any],
    fp: str,
    keep: int,
) -> Path:
    """Write ``checkpoints/step-N`` atomically (temp folder + rename), keep the newest ``keep``."""
    root = out_dir / CHECKPOINTS
    target = root / f"step-{state.step}"
    tmp = root / f".tmp-step-{state.step}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    torch.save(rng, tmp / "rng.pt")
    meta = {"fingerprint": fp, **state.__dict__}
    write_json(tmp / STATE_FILE, meta, indent=1)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    for old in checkpoints(out_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def load_checkpoint(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any, fp: str
) -> TrainState:
    """Restore adapter, optimizer, scheduler and RNG from ``path``; refuse a different run."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    meta = json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
    if meta.pop("fingerprint") != fp:
        raise RareSupportError(
            f"{path}: checkpoint is from a run with another config, model or data; "
            "train into a new --out folder or pass resume=False (--no-resume) to start over"
        )
    weights = load_file(str(path / "adapter_model.safetensors"))
    set_peft_model_state_dict(model, weights)
    optimizer.load_state_dict(torch.load(path / "optimizer.pt", weights_only=False))
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=False))
    set_rng_state(torch.load(path / "rng.pt", weights_only=False))
    return TrainState(**meta)


def rewind_log(path: Path, step: int) -> None:
    """Keep log lines up to ``step`` so a resumed run's log reads as one run."""
    if not path.is_file():
        return
    kept = [row for _, row in iter_jsonl(path, RareSupportError, "training log")]
    write_jsonl(path, [row for row in kept if row["step"] <= step])
