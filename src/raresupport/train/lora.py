"""LoRA SFT on vignettes with a lean accelerate loop, built for CPU speed.

This module puts the pieces together (one job each: ``data``, ``batching``, ``loss``,
``model``, ``checkpoints``, ``loop``). Why a hand-written loop: the loss is taken on answer tokens
only, so

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

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from raresupport.chat import DEFAULT_SYSTEM_PROMPT
from raresupport.data.jsonl import write_json
from raresupport.data.vignette import Vignette
from raresupport.errors import DataError
from raresupport.models.adapter import base_fingerprint, write_record
from raresupport.models.load import load_model
from raresupport.models.precision import use_bf16
from raresupport.tokens import Example, collate, pad_id
from raresupport.train.batching import step_plan
from raresupport.train.checkpoints import TrainState, fingerprint
from raresupport.train.config import TrainConfig
from raresupport.train.data import read_training_data
from raresupport.train.format import build_examples
from raresupport.train.loop import SUMMARY_FILE, StepCallback, TrainRun, restore, run_steps
from raresupport.train.loss import AnswerLoss, frozen_prefix_for, head_is_plain, head_paths_agree
from raresupport.train.model import optimizer_and_schedule, wrap_lora

log = logging.getLogger(__name__)

CONFIG_FILE = "train_config.json"
__all__ = ["CONFIG_FILE", "SUMMARY_FILE", "train_lora"]


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
    run: TrainRun, tokenizer: Any, model_name: str, state: TrainState, resumed: int | None,
    wall: float,
) -> None:
    """Save the final adapter (standard PEFT layout), optional merged model, and the summary."""
    acc = run.accelerator
    acc.wait_for_everyone()
    if not acc.is_main_process:
        return
    model = acc.unwrap_model(run.loss_fn).model
    model.save_pretrained(run.out_dir)
    tokenizer.save_pretrained(run.out_dir)
    write_record(
        run.out_dir, base_model=model_name, fingerprint=run.base_fingerprint,
        system_prompt=run.config.system_prompt or DEFAULT_SYSTEM_PROMPT, styles=run.config.styles,
    )  # fmt: skip
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
        "frozen_layers_cached": getattr(acc.unwrap_model(run.loss_fn).prefix, "depth", 0),
        "prefix_seconds": round(run.prefix_seconds, 3),
        "num_processes": acc.num_processes,
        "device": str(acc.device),
        "mixed_precision": "bf16" if run.bf16 else acc.mixed_precision,
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }
    write_json(run.out_dir / SUMMARY_FILE, summary)
    if run.config.merge:
        merged = model.merge_and_unload()
        merged.save_pretrained(run.out_dir / "merged")
        tokenizer.save_pretrained(run.out_dir / "merged")


def _setup(
    model: str, data: Any, out: Path, cfg: TrainConfig, init_adapter: Path | None = None
) -> tuple[TrainRun, Any]:
    """Load data and model, wrap LoRA, pick the loss path, build optimizer and schedule."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    accelerator = Accelerator()
    set_seed(cfg.seed)
    vignettes = read_training_data(data)
    base, tokenizer = load_model(
        model, dtype=cfg.dtype, device=str(accelerator.device), for_training=True
    )
    base_fp = base_fingerprint(base)
    examples = _prepare_examples(tokenizer, vignettes, cfg)
    if cfg.replay > 0:
        examples += _replay_examples(base, tokenizer, out, cfg, round(cfg.replay * len(vignettes)))
    if init_adapter is None:
        peft_model = wrap_lora(base, cfg)
    else:  # continue training an earlier adapter (feedback rounds, ``raresupport.review``)
        from peft import PeftModel

        peft_model = PeftModel.from_pretrained(base, str(init_adapter), is_trainable=True)
    world = accelerator.num_processes
    steps_per_epoch = len(step_plan([len(e) for e in examples], cfg, 0, world, 0))
    total = cfg.max_steps or math.ceil(cfg.epochs * steps_per_epoch)
    optimizer, scheduler = optimizer_and_schedule(peft_model, cfg, total)
    head_only = cfg.answer_only_head and head_is_plain(peft_model.get_base_model())
    if head_only:
        head_only = head_paths_agree(peft_model, collate(examples[:2], pad_id(tokenizer)))
        if not head_only:
            log.warning("answer-only LM head disagrees with full logits; using full logits")
    prefix, prefix_seconds = None, 0.0
    bf16 = use_bf16(cfg.mixed_precision, accelerator.device)
    if head_only and cfg.cache_frozen_layers:
        prefix = frozen_prefix_for(peft_model, collate(examples[:2], pad_id(tokenizer)),
                                   pad_id(tokenizer))  # fmt: skip
    if prefix is not None:
        t0 = time.perf_counter()
        prefix.fill(peft_model.get_base_model().get_decoder(), [e.input_ids for e in examples],
                    pad=pad_id(tokenizer), device=accelerator.device, bf16=bf16)  # fmt: skip
        prefix_seconds = time.perf_counter() - t0
        log.info("frozen layers 0-%d run once for %d examples in %.1fs",
                 prefix.depth - 1, len(examples), prefix_seconds)  # fmt: skip
    loss_fn, optimizer = accelerator.prepare(AnswerLoss(peft_model, head_only, prefix), optimizer)
    run = TrainRun(
        accelerator=accelerator, loss_fn=loss_fn, peft_model=peft_model, optimizer=optimizer,
        scheduler=scheduler, examples=examples, config=cfg, pad_id=pad_id(tokenizer),
        fingerprint=fingerprint(cfg, model if init_adapter is None else f"{model}+{init_adapter}",
                                examples, world),
        out_dir=out, total_steps=total,
        steps_per_epoch=steps_per_epoch, bf16=bf16, base_fingerprint=base_fp,
        prefix_seconds=prefix_seconds,
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
        write_json(out / CONFIG_FILE, meta)
    state, resumed = restore(run, resume)
    state = run_steps(run, state, progress, on_step)
    _finish(run, tokenizer, model, state, resumed, time.perf_counter() - started)
    return out