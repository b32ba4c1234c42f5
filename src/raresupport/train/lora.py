"""LoRA SFT on vignettes with a lean accelerate loop, built for CPU speed.

Why a hand-written loop: the loss is taken on answer tokens only, so

* the LM head (a 49k x 576 matmul per token for SmolLM2, plus the softmax) runs only at the few
  answer positions instead of every position (``answer_only_head``), checked once against the
  full-logits loss at start-up and switched off when they disagree (e.g. soft-capped logits);
* each step's random examples are cut into micro-batches of similar length, so little compute
  goes to padding while the gradient stays that of a random batch, and the model gets no
  attention mask: with right padding a causal model's real tokens never see the pads, and
  without a mask SDPA takes its fast ``is_causal`` kernel;
* matmuls run under bf16 autocast where the hardware has fast bf16 (``mixed_precision="auto"``),
  which is about 3x faster than float32 on an AVX512-BF16 CPU at the same loss.

Checkpoints (adapter, optimizer, scheduler, RNG, step) go to ``out_dir/checkpoints/step-N``;
``resume=True`` continues from the newest one with the same data order, and refuses when the
config or data changed. Ctrl-C saves a checkpoint at the last finished step before stopping.

Several GPUs: the loop uses ``accelerate`` for devices, DDP and gradient sync, so
``accelerate launch --num_processes 4 -m raresupport.train.cli DATA_DIR --model <id> --out runs/x``
trains data-parallel (each process takes every N-th micro-batch of a step; only the main process
writes files). The effective batch is ``batch_size * grad_accum * num_processes``. On CPU,
``ACCELERATE_USE_CPU=true torchrun --nproc_per_node 2 -m raresupport.train.cli ...`` does the
same over gloo (the test suite runs that path).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import shutil
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from raresupport.data.vignette import Vignette, load_vignettes
from raresupport.errors import DataError, RareSupportError
from raresupport.train.config import TrainConfig
from raresupport.train.format import IGNORE_INDEX, Example, build_examples

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
LOG_FILE = "train_log.jsonl"
SUMMARY_FILE = "train_summary.json"
CONFIG_FILE = "train_config.json"
STATE_FILE = "trainer_state.json"
#: fields that do not change what is learned, so changing them may not block a resume
_RUNTIME_FIELDS = {"save_every_steps", "keep_checkpoints", "log_every", "merge"}

StepCallback = Callable[[dict[str, Any]], None]
#: fixed cost of one more micro-batch in padded-token equivalents: ~30 on one CPU thread for
#: SmolLM2 (8 one-row micro-batches took 13 % longer than one of 8 rows), set higher for
#: multi-threaded and GPU runs where small matmuls use the hardware less well
MICRO_OVERHEAD = 64


# --------------------------------------------------------------------------- data


def read_training_data(data: Path | str | Sequence[Vignette]) -> list[Vignette]:
    """Vignettes from a list, a JSONL file, or a dataset folder holding ``train.jsonl``."""
    if not isinstance(data, (str, Path)):
        return list(data)
    path = Path(data)
    if path.is_dir():
        path = path / "train.jsonl"
    if not path.is_file():
        raise DataError(f"{path}: no training data (expected a train.jsonl file or its folder)")
    return load_vignettes(path)


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """A shuffled order of ``n`` examples, the same for the same (seed, epoch)."""
    order = list(range(n))
    random.Random(seed * 1_000_003 + epoch).shuffle(order)
    return order


def split_by_length(
    indices: Sequence[int], lengths: Sequence[int], max_rows: int, overhead: int = MICRO_OVERHEAD
) -> list[list[int]]:
    """Cut one step's examples into micro-batches of similar length (at most ``max_rows`` each).

    Sorted by length, the cut points minimise padded tokens plus ``overhead`` tokens per
    micro-batch (a dynamic programme over <= a few dozen items). The step's gradient does not
    change: only the padding, and so the compute, does. Random steps matter: steps made of
    length-sorted batches put letter and cloze examples in separate steps, which left the
    held-out loss ~5 % higher after 30 steps on SmolLM2 than random steps.
    """
    items = sorted(indices, key=lambda i: -lengths[i])
    n = len(items)
    best, cut = [0.0] + [math.inf] * n, [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(max(0, j - max_rows), j):
            cost = best[i] + (j - i) * lengths[items[i]] + overhead
            if cost < best[j]:
                best[j], cut[j] = cost, i
    groups, j = [], n
    while j > 0:
        groups.append(items[cut[j] : j])
        j = cut[j]
    return groups[::-1]


def step_plan(
    lengths: Sequence[int], config: TrainConfig, epoch: int, world_size: int, rank: int
) -> list[list[list[int]]]:
    """This process's micro-batches for each optimizer step of ``epoch``.

    A step takes the next ``batch_size * grad_accum * world_size`` examples of the shuffled
    order; each process takes every ``world_size``-th of them. With several processes the order
    wraps around so every process gets examples in every step (DDP would hang otherwise).
    """
    order = epoch_order(len(lengths), config.seed, epoch)
    per_step = config.batch_size * config.grad_accum * world_size
    if world_size > 1 and len(order) % world_size:
        order += order[: world_size - len(order) % world_size]
    plan = []
    rows = config.batch_size
    for start in range(0, len(order), per_step):
        mine = order[start : start + per_step][rank::world_size]
        if config.group_by_length:
            plan.append(split_by_length(mine, lengths, rows))
        else:
            plan.append([mine[i : i + rows] for i in range(0, len(mine), rows)])
    return plan


def collate(examples: Sequence[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded ``input_ids``/``labels``/``attention_mask`` tensors."""
    width = max(len(e) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        n = len(e)
        ids[row, :n] = torch.tensor(e.input_ids)
        labels[row, :n] = torch.tensor(e.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


# --------------------------------------------------------------------------- loss


def _head_is_plain(causal_lm: nn.Module) -> bool:
    """False for models whose logits are post-processed after the LM head (soft-cap, scale)."""
    cfg = causal_lm.config
    text_cfg = getattr(cfg, "text_config", None) or cfg
    for name in ("final_logit_softcapping", "logit_scale", "logits_scaling"):
        value = getattr(text_cfg, name, None)
        if value not in (None, 1, 1.0):
            return False
    return True


class AnswerLoss(nn.Module):
    """Summed cross-entropy over answer tokens, and their count.

    Wrapping the loss in a module makes DDP see one forward per micro-batch even though the
    answer-only path calls the decoder and the LM head separately.
    """

    def __init__(self, model: nn.Module, answer_only_head: bool = True) -> None:
        super().__init__()
        self.model = model
        self.answer_only_head = answer_only_head

    def _causal_lm(self) -> nn.Module:
        get = getattr(self.model, "get_base_model", None)
        return get() if get else self.model

    def forward(
        self, input_ids: torch.Tensor, labels: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        targets = labels[:, 1:]
        keep = targets != IGNORE_INDEX
        if self.answer_only_head:
            causal = self._causal_lm()
            # right padding + causal attention: real tokens never attend to the pads, so no mask
            hidden = causal.get_decoder()(input_ids=input_ids, use_cache=False).last_hidden_state
            picked = hidden[:, :-1][keep]
            logits = causal.get_output_embeddings()(picked)
        else:
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
            logits = out.logits[:, :-1][keep]
        loss = nn.functional.cross_entropy(logits.float(), targets[keep], reduction="sum")
        return loss, keep.sum()


@torch.no_grad()
def head_paths_agree(model: nn.Module, batch: dict[str, torch.Tensor], tol: float = 1e-3) -> bool:
    """Whether the answer-only, unmasked path gives the full-logits masked loss on ``batch``."""
    was_training = model.training
    model.eval()
    try:
        fast, n = AnswerLoss(model, True)(**batch)
        full, _ = AnswerLoss(model, False)(**batch)
    finally:
        model.train(was_training)
    fast, full = fast.item() / max(int(n), 1), full.item() / max(int(n), 1)
    return abs(fast - full) <= tol * max(1.0, abs(full))


# --------------------------------------------------------------------------- model


def _load_base(name: str, config: TrainConfig, device: str) -> tuple[nn.Module, Any]:
    """Base model + tokenizer through the project's loader (short names, local dirs, HF ids)."""
    from raresupport.models.load import load_model

    return load_model(name, dtype=config.dtype, device=device, for_training=True)


def cpu_has_fast_bf16() -> bool:
    """Whether this x86 CPU multiplies bf16 natively (AVX512-BF16 or AMX); False elsewhere."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def use_bf16(setting: str, device: torch.device) -> bool:
    """``auto``: bf16 autocast on CUDA with bf16 and on fast-bf16 CPUs, else full precision.

    Autocast is applied here rather than through ``Accelerator(mixed_precision=...)`` because
    accelerate's state is a per-process singleton: a second run in the same process with
    another setting would fail. ``accelerate launch --mixed_precision`` still works on top.
    """
    if setting != "auto":
        return setting == "bf16"
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_fast_bf16()


def _top_layers(base: nn.Module, top: int | None) -> list[int] | None:
    n = getattr(base.config, "num_hidden_layers", None)
    if top is None or n is None or top >= n:
        return None
    return list(range(n - top, n))


def _target_modules(base: nn.Module, config: TrainConfig) -> str | list[str]:
    """Module names to adapt. peft refuses "all-linear" together with a layer subset, so with
    ``top_layers`` it is spelled out as the names of every linear layer except the LM head."""
    targets = config.target_modules
    if not isinstance(targets, str):
        return list(targets)
    if targets != "all-linear" or config.top_layers is None:
        return targets
    head = base.get_output_embeddings()
    return sorted({name.rsplit(".", 1)[-1] for name, m in base.named_modules()
                   if isinstance(m, nn.Linear) and m is not head})  # fmt: skip


def lora_config(base: nn.Module, config: TrainConfig) -> Any:
    """The ``peft.LoraConfig`` this trainer applies to ``base`` for ``config``.

    The one place that turns :class:`TrainConfig` into peft's settings, so anything else that
    trains "the same LoRA" (the TRL comparison in ``benchmarks/``) hands peft exactly this.
    """
    from peft import LoraConfig, TaskType

    return LoraConfig(
        task_type=TaskType.CAUSAL_LM,
        r=config.r,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=_target_modules(base, config),
        bias="none",
        layers_to_transform=_top_layers(base, config.top_layers),
    )


def _wrap_lora(base: nn.Module, config: TrainConfig) -> nn.Module:
    from peft import get_peft_model

    lora = lora_config(base, config)
    torch.manual_seed(config.seed)  # LoRA A matrices are random: same seed, same adapter
    model = get_peft_model(base, lora)
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return model


def _optimizer_and_schedule(model: nn.Module, config: TrainConfig, total_steps: int):
    from transformers import get_cosine_schedule_with_warmup

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    warmup = math.ceil(config.warmup_ratio * total_steps)
    return optimizer, get_cosine_schedule_with_warmup(optimizer, warmup, total_steps)


# --------------------------------------------------------------------------- checkpoints


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


def _rng_state() -> dict[str, Any]:
    import numpy as np

    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
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
    (tmp / STATE_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
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
    _set_rng_state(torch.load(path / "rng.pt", weights_only=False))
    return TrainState(**meta)


# --------------------------------------------------------------------------- logging


def _rewind_log(path: Path, step: int) -> None:
    """Keep log lines up to ``step`` so a resumed run's log reads as one run."""
    if not path.is_file():
        return
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    kept = [ln for ln in lines if json.loads(ln)["step"] <= step]
    path.write_text("".join(ln + "\n" for ln in kept), encoding="utf-8")


class _Bar:
    """A rich progress bar showing the loss, or nothing when disabled."""

    def __init__(self, enabled: bool, total: int, done: int) -> None:
        self._progress = None
        if not enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        self._progress = RichProgress(
            TextColumn("train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        self._task = self._progress.add_task("train", total=total, completed=done, loss="-")
        self._progress.start()

    def update(self, loss: float) -> None:
        if self._progress:
            self._progress.update(self._task, advance=1, loss=f"{loss:.4f}")

    def close(self) -> None:
        if self._progress:
            self._progress.stop()


# --------------------------------------------------------------------------- training


@dataclass
class _Run:
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


def _backward(run: _Run, micro_batches: list[list[int]]) -> torch.Tensor:
    """Accumulate one step's gradients; returns loss sum, answer, real and padded tokens.

    Summed losses are divided by the step's answer-token count, never per micro-batch, so how a
    step is cut into micro-batches does not change any token's weight. The returned counts are
    summed over processes.
    """
    acc, device = run.accelerator, run.accelerator.device
    batches = [collate([run.examples[i] for i in mb], run.pad_id) for mb in micro_batches]
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


def _optimizer_step(run: _Run) -> None:
    if run.config.max_grad_norm:
        run.accelerator.clip_grad_norm_(run.peft_model.parameters(), run.config.max_grad_norm)
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)


def _record(run: _Run, state: TrainState, stats: torch.Tensor) -> dict[str, Any]:
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


def _loop(run: _Run, state: TrainState, progress: bool, on_step: StepCallback | None) -> TrainState:
    """Run optimizer steps from ``state.step`` to the end, logging and checkpointing.

    Ctrl-C saves a checkpoint of the last finished step (single process only: several processes
    would meet at a barrier some of them may never reach), unless it hit mid-update.
    """
    acc, cfg = run.accelerator, run.config
    lengths = [len(e) for e in run.examples]
    bar = _Bar(progress and acc.is_main_process, run.total_steps, state.step)
    plan_epoch, plan = -1, []
    rng_after_step, updating = _rng_state(), False
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
            rng_after_step, updating = _rng_state(), False
            bar.update(record["loss"])
            if acc.is_main_process and (
                state.step % cfg.log_every == 0 or state.step == run.total_steps
            ):
                with (run.out_dir / LOG_FILE).open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record) + "\n")
            if state.step % cfg.save_every_steps == 0 or state.step % run.steps_per_epoch == 0:
                _checkpoint(run, state, rng_after_step)
            if on_step is not None:
                on_step(record)
    except KeyboardInterrupt:
        saved = (run.out_dir / CHECKPOINTS / f"step-{state.step}").is_dir()
        if state.step and not saved and not updating and acc.num_processes == 1:
            _checkpoint(run, state, rng_after_step)
        raise
    finally:
        bar.close()
    return state


def _checkpoint(run: _Run, state: TrainState, rng: dict[str, Any]) -> None:
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


def _resume(run: _Run, resume: bool) -> tuple[TrainState, int | None]:
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
            _rewind_log(log_path, state.step)
        else:
            shutil.rmtree(run.out_dir / CHECKPOINTS, ignore_errors=True)
            log_path.unlink(missing_ok=True)
    acc.wait_for_everyone()
    return state, (state.step if found else None)


def _pad_id(tokenizer: Any) -> int:
    for name in ("pad_token_id", "eos_token_id"):
        value = getattr(tokenizer, name, None)
        if isinstance(value, int):
            return value
    return 0


def _prepare_examples(tokenizer: Any, vignettes: list[Vignette], cfg: TrainConfig) -> list[Example]:
    examples, skipped = build_examples(
        tokenizer,
        vignettes,
        styles=cfg.styles,
        max_length=cfg.max_length,
        include_rationale=cfg.include_rationale,
        system_prompt=cfg.system_prompt,
    )
    for msg in skipped:
        log.warning("skipped training example %s", msg)
    if not examples:
        raise DataError(f"no trainable examples among {len(vignettes)} vignettes")
    return examples


def _replay_examples(base: Any, tokenizer: Any, out: Path, cfg: TrainConfig, n: int) -> list:
    """Self-replay examples (see ``train/replay.py``), made by the main process before LoRA."""
    from accelerate import PartialState

    from raresupport.train.format import encode_mcq
    from raresupport.train.replay import REPLAY_FILE, load_or_make_replay, make_replay, replay_items

    with PartialState().main_process_first():
        pairs = load_or_make_replay(
            out / REPLAY_FILE,
            lambda: make_replay(base, tokenizer, n, system_prompt=cfg.system_prompt, seed=cfg.seed),
        )
    examples = []
    for item in replay_items(pairs):
        try:
            examples.append(encode_mcq(tokenizer, item, "cloze", max_length=cfg.max_length,
                                       system_prompt=cfg.system_prompt))
        except ValueError as exc:
            log.warning("skipped replay example: %s", exc)
    return examples


def _finish(
    run: _Run, tokenizer: Any, model_name: str, state: TrainState, resumed: int | None, wall: float
) -> None:
    """Save the final adapter (standard PEFT layout), optional merged model, and the summary."""
    acc = run.accelerator
    acc.wait_for_everyone()
    if not acc.is_main_process:
        return
    model = acc.unwrap_model(run.loss_fn).model
    model.save_pretrained(run.out_dir)
    tokenizer.save_pretrained(run.out_dir)
    losses = state.losses
    tail = losses[-10:]
    summary = {
        "model": model_name,
        "steps": state.step,
        "total_steps": run.total_steps,
        "epochs": round(state.step / run.steps_per_epoch, 4),
        "examples": len(run.examples),
        "tokens": state.tokens,
        "target_tokens": state.target_tokens,
        "padding_share": round(1 - state.tokens / state.padded_tokens, 4)
        if state.padded_tokens
        else None,
        "train_seconds": round(state.train_seconds, 3),
        "tokens_per_s": round(state.tokens / state.train_seconds, 1)
        if state.train_seconds
        else None,
        "seconds_per_step": round(state.train_seconds / state.step, 4) if state.step else None,
        "wall_seconds": round(wall, 3),
        "first_loss": losses[0] if losses else None,
        "final_loss": round(sum(tail) / len(tail), 6) if tail else None,
        "last_loss": losses[-1] if losses else None,
        "resumed_from_step": resumed,
        "answer_only_head": getattr(acc.unwrap_model(run.loss_fn), "answer_only_head", None),
        "num_processes": acc.num_processes,
        "device": str(acc.device),
        "mixed_precision": "bf16" if run.bf16 else acc.mixed_precision,
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }
    (run.out_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    if run.config.merge:
        merged = model.merge_and_unload()
        merged.save_pretrained(run.out_dir / "merged")
        tokenizer.save_pretrained(run.out_dir / "merged")


def _setup(
    model: str, data: Any, out: Path, cfg: TrainConfig, init_adapter: Path | None = None
) -> tuple[_Run, Any]:
    """Load data and model, wrap LoRA, pick the loss path, build optimizer and schedule."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    accelerator = Accelerator()
    set_seed(cfg.seed)
    vignettes = read_training_data(data)
    base, tokenizer = _load_base(model, cfg, str(accelerator.device))
    examples = _prepare_examples(tokenizer, vignettes, cfg)
    if cfg.replay > 0:
        examples += _replay_examples(base, tokenizer, out, cfg, round(cfg.replay * len(vignettes)))
    if init_adapter is None:
        peft_model = _wrap_lora(base, cfg)
    else:  # continue training an earlier adapter (feedback rounds, ``raresupport.review``)
        from peft import PeftModel

        peft_model = PeftModel.from_pretrained(base, str(init_adapter), is_trainable=True)
    world = accelerator.num_processes
    steps_per_epoch = len(step_plan([len(e) for e in examples], cfg, 0, world, 0))
    total = cfg.max_steps or math.ceil(cfg.epochs * steps_per_epoch)
    optimizer, scheduler = _optimizer_and_schedule(peft_model, cfg, total)
    head_only = cfg.answer_only_head and _head_is_plain(peft_model.get_base_model())
    if head_only:
        head_only = head_paths_agree(peft_model, collate(examples[:2], _pad_id(tokenizer)))
        if not head_only:
            log.warning("answer-only LM head disagrees with full logits; using full logits")
    loss_fn, optimizer = accelerator.prepare(AnswerLoss(peft_model, head_only), optimizer)
    run = _Run(
        accelerator=accelerator, loss_fn=loss_fn, peft_model=peft_model, optimizer=optimizer,
        scheduler=scheduler, examples=examples, config=cfg, pad_id=_pad_id(tokenizer),
        fingerprint=fingerprint(cfg, model if init_adapter is None else f"{model}+{init_adapter}",
                                examples, world),
        out_dir=out, total_steps=total,
        steps_per_epoch=steps_per_epoch, bf16=use_bf16(cfg.mixed_precision, accelerator.device),
    )  # fmt: skip
    return run, tokenizer


def train_lora(
    model: str,
    data: Path | str | Sequence[Vignette],
    out_dir: Path | str,
    config: TrainConfig | None = None,
    *,
    resume: bool = True,
    progress: bool = True,
    on_step: StepCallback | None = None,
    init_adapter: Path | str | None = None,
) -> Path:
    """Train a LoRA adapter for ``model`` on ``data``; return ``out_dir`` holding the adapter.

    ``data`` is a list of vignettes, a ``train.jsonl`` file or a dataset folder. ``on_step``
    gets each step's log record (tests use it to interrupt a run). ``init_adapter``: a saved
    adapter to keep training (its LoRA shape wins over the config's) instead of a fresh one.
    """
    started = time.perf_counter()
    cfg = config or TrainConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    run, tokenizer = _setup(model, data, out, cfg, Path(init_adapter) if init_adapter else None)
    if run.accelerator.is_main_process:
        meta = {"model": model, "fingerprint": run.fingerprint, "config": cfg.model_dump()}
        (out / CONFIG_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    state, resumed = _resume(run, resume)
    state = _loop(run, state, progress, on_step)
    _finish(run, tokenizer, model, state, resumed, time.perf_counter() - started)
    return out
