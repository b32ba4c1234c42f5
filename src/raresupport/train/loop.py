"""The training loop: optimizer steps with gradient accumulation over length-grouped
micro-batches, logging, checkpointing and resuming.

Several processes (``accelerate launch``/``torchrun``) each take every N-th micro-batch of a
step; ``accelerate`` syncs the gradients once per step and only the main process writes files.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from raresupport.data.jsonl import append_jsonl
from raresupport.progress import Progress
from raresupport.tokens import IGNORE_INDEX, Example, collate
from raresupport.train.batching import step_plan
from raresupport.train.checkpoints import (
    CHECKPOINTS,
    LOG_FILE,
    TrainState,
    checkpoints,
    load_checkpoint,
    rewind_log,
    rng_state,
    save_checkpoint,
)
from raresupport.train.config import TrainConfig

SUMMARY_FILE = "train_summary.json"
StepCallback = Callable[[dict[str, Any]], None]


@dataclass
class TrainRun:
    """The pieces of one training run, bundled so the loop functions stay small."""

    accelerator: Any
    loss_fn: nn.Module
    peft_model: nn.Module
    optimizer: Any
    scheduler: Any
    examples: list[Example]
    config: TrainConfig
    pad_id: int
    fingerprint: str
    out_dir: Path
    total_steps: int
    steps_per_epoch: int
    bf16: bool = False
    base_fingerprint: str = ""
    prefix_seconds: float = 0.0


def _backward(run: TrainRun, micro_batches: list[list[int]]) -> torch.Tensor:
    """Accumulate one step's gradients; returns loss sum, answer, real and padded tokens.

    Summed losses are divided by the step's answer-token count, never per micro-batch, so how a
    step is cut into micro-batches does not change any token's weight. The returned counts are
    summed over processes.
    """
    acc, device = run.accelerator, run.accelerator.device
    batches = [collate([run.examples[i] for i in mb], run.pad_id) | {"index": torch.tensor(mb)}
               for mb in micro_batches]  # fmt: skip
    n_target = sum(int((b["labels"][:, 1:] != IGNORE_INDEX).sum()) for b in batches)
    n_tokens = sum(int(b["attention_mask"].sum()) for b in batches)
    n_padded = sum(b["input_ids"].numel() for b in batches)
    denominator = max(n_target, 1)
    loss_total = 0.0
    for i, batch in enumerate(batches):
        batch = {k: v.to(device) for k, v in batch.items()}
        sync = i == len(batches) - 1  # DDP all-reduces gradients once, after the last one
        with nullcontext() if sync else acc.no_sync(run.loss_fn):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=run.bf16):
                loss_sum, _ = run.loss_fn(**batch)
            acc.backward(loss_sum / denominator)
        loss_total += loss_sum.item()
    stats = [loss_total, n_target, n_tokens, n_padded]
    stats = torch.tensor(stats, dtype=torch.float64, device=device)
    return acc.reduce(stats, reduction="sum")


def _optimizer_step(run: TrainRun) -> None:
    if run.config.max_grad_norm:
        run.accelerator.clip_grad_norm_(run.peft_model.parameters(), run.config.max_grad_norm)
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)


def _record(run: TrainRun, state: TrainState, stats: torch.Tensor) -> dict[str, Any]:
    """Fold one step's stats into ``state``; return its log record."""
    loss = stats[0].item() / max(stats[1].item(), 1.0)
    state.step += 1
    state.tokens += int(stats[2])
    state.target_tokens += int(stats[1])
    state.padded_tokens += int(stats[3])
    state.losses.append(round(loss, 6))
    return {
        "step": state.step,
        "epoch": round(state.step / run.steps_per_epoch, 4),
        "loss": round(loss, 6),
        "lr": run.scheduler.get_last_lr()[0],
        "tokens": state.tokens,
        "target_tokens": state.target_tokens,
        "seconds": round(state.train_seconds, 3),
    }


def run_steps(
    run: TrainRun, state: TrainState, progress: bool, on_step: StepCallback | None
) -> TrainState:
    """Run optimizer steps from ``state.step`` to the end, logging and checkpointing.

    Ctrl-C saves a checkpoint of the last finished step (single process only: several processes
    would meet at a barrier some of them may never reach), unless it hit mid-update.
    """
    acc, cfg = run.accelerator, run.config
    lengths = [len(e) for e in run.examples]
    bar = Progress(
        "train", run.total_steps, done=state.step, enabled=progress and acc.is_main_process
    )
    plan_epoch, plan = -1, []
    rng_after_step, updating = rng_state(), False
    try:
        while state.step < run.total_steps:
            epoch, index = divmod(state.step, run.steps_per_epoch)
            if epoch != plan_epoch:
                plan = step_plan(lengths, cfg, epoch, acc.num_processes, acc.process_index)
                plan_epoch = epoch
            t0 = time.perf_counter()
            stats = _backward(run, plan[index])
            updating = True
            _optimizer_step(run)
            state.train_seconds += time.perf_counter() - t0
            record = _record(run, state, stats)
            rng_after_step, updating = rng_state(), False
            bar.update(loss=record["loss"], tokens_per_s=state.tokens / state.train_seconds)
            if acc.is_main_process and (
                state.step % cfg.log_every == 0 or state.step == run.total_steps
            ):
                append_jsonl(run.out_dir / LOG_FILE, record)
            if state.step % cfg.save_every_steps == 0 or state.step % run.steps_per_epoch == 0:
                _checkpoint(run, state, rng_after_step)
            if on_step is not None:
                on_step({**record, "total_steps": run.total_steps})
    except KeyboardInterrupt:
        saved = (run.out_dir / CHECKPOINTS / f"step-{state.step}").is_dir()
        if state.step and not saved and not updating and acc.num_processes == 1:
            _checkpoint(run, state, rng_after_step)
        raise
    finally:
        bar.close()
    return state


def _checkpoint(run: TrainRun, state: TrainState, rng: dict[str, Any]) -> None:
    acc = run.accelerator
    acc.wait_for_everyone()
    if acc.is_main_process:
        save_checkpoint(
            run.out_dir,
            acc.unwrap_model(run.loss_fn).model,
            run.optimizer,
            run.scheduler,
            state,
            rng,
            run.fingerprint,
            run.config.keep_checkpoints,
        )
    acc.wait_for_everyone()


def restore(run: TrainRun, resume: bool) -> tuple[TrainState, int | None]:
    """Restore the newest checkpoint (or clear old ones); returns progress and the step resumed.

    The summary file is removed either way and written again at the end, so its presence means
    the run in this folder finished (the pipeline relies on that).
    """
    found = checkpoints(run.out_dir) if resume else []
    state = TrainState()
    if found:
        state = load_checkpoint(
            found[-1], run.peft_model, run.optimizer, run.scheduler, run.fingerprint
        )
    acc, log_path = run.accelerator, run.out_dir / LOG_FILE
    if acc.is_main_process:
        (run.out_dir / SUMMARY_FILE).unlink(missing_ok=True)
        if found:
            rewind_log(log_path, state.step)
        else:
            shutil.rmtree(run.out_dir / CHECKPOINTS, ignore_errors=True)
            log_path.unlink(missing_ok=True)
    acc.wait_for_everyone()
    return state, (state.step if found else None)
