"""Hyper-parameters of one LoRA SFT run, validated up front so a typo fails before training.

This is the one source of training defaults: ``raresupport train``, ``raresupport run`` and the
Python API all start from them. Defaults follow the published rare-disease LoRA recipes (r=16,
alpha=16, dropout 0.05) except those measured on SmolLM2-135M with 2 CPU cores
(docs/training.md has the tables). Many varied items seen 2.5 times beat few items seen five
times on held-out items and on the out-of-domain control; the budget (~600 items, LoRA on the
top 8 layers) is the cheapest measured within noise of the best on the people validation split
that also beats the untuned model there; cloze-only examples train what the headline
``loglik`` rule scores.
Also: LoRA adapts every linear layer, because facts live largely in the MLP (attention-only
LoRA reached 0.39 where all-linear reached 0.52 on the shipped benchmark, same data), and the
learning rate is 3e-3, because the published 1e-4-2e-4 barely moves a CPU-sized run of a few
hundred steps (2 epochs on 162 structured items: lr 3e-4 0.29, 1e-3 0.30, 3e-3 0.38,
6e-3 0.38; untuned 0.20).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from raresupport.chat import PromptStyle
from raresupport.models.precision import MixedPrecision

Dtype = Literal["auto", "float32", "bfloat16", "float16"]


class TrainConfig(BaseModel):
    """Everything that shapes the trained adapter; saved next to it for reproducibility."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # LoRA
    r: int = Field(16, ge=1)
    alpha: int = Field(16, ge=1)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    #: peft's "all-linear" (attention and MLP projections, not the LM head) or explicit names.
    #: The MLP matters for facts: on SmolLM2-135M, q/k/v/o-only LoRA reached 39 % loglik on the
    #: shipped benchmark where all-linear reached 52 % (same data, 5 epochs, top 8 layers).
    target_modules: str | tuple[str, ...] = "all-linear"
    #: adapt only the top N decoder layers (None: all). Backward then stops at the lowest adapted
    #: layer, so training costs about (1 + 2N/L)/3 of full-depth LoRA on an L-layer model. 8:
    #: every top-4 budget measured scored no better than the untuned model on the people
    #: validation split (docs/measurements.md, "The training budget against its cost").
    top_layers: int | None = Field(8, ge=1)

    # optimisation
    lr: float = Field(3e-3, gt=0)
    epochs: float = Field(2.5, gt=0)
    max_steps: int | None = Field(None, ge=1, description="overrides epochs when set")
    #: examples per micro-batch at most; a step draws batch_size * grad_accum * processes
    batch_size: int = Field(8, ge=1)
    grad_accum: int = Field(1, ge=1)
    warmup_ratio: float = Field(0.05, ge=0.0, lt=1.0)
    weight_decay: float = Field(0.0, ge=0.0)
    max_grad_norm: float | None = Field(1.0, gt=0)
    seed: int = 0
    #: cut each step's random examples into micro-batches of similar length (less padding,
    #: same gradient); off: micro-batches in drawing order
    group_by_length: bool = True

    # data
    max_length: int = Field(384, ge=16)
    styles: tuple[PromptStyle, ...] = ("cloze",)
    include_rationale: bool = True
    #: self-replay items per training vignette: the base model's own answers to general
    #: questions, trained alongside so tuning does not change its behaviour outside the disease
    replay: float = Field(0.0, ge=0.0, le=2.0)
    #: None: the disease's system prompt in ``run``, the default one otherwise
    system_prompt: str | None = None

    # runtime
    dtype: Dtype = "auto"
    #: "auto": bf16 autocast where matmuls are fast in bf16 (CUDA, x86 with AVX512-BF16/AMX;
    #: ~3x on such CPUs at the same loss), else full precision
    mixed_precision: MixedPrecision = "auto"
    gradient_checkpointing: bool = False
    answer_only_head: bool = True
    #: run the embeddings and frozen layers below LoRA once per example before training, not in
    #: every step (train/loss.py FrozenPrefix; memory: 4 bytes x training tokens x hidden size)
    cache_frozen_layers: bool = True
    save_every_steps: int = Field(50, ge=1)
    keep_checkpoints: int = Field(2, ge=1)
    log_every: int = Field(1, ge=1)
    merge: bool = False

    @field_validator("styles")
    @classmethod
    def _styles_unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("need at least one prompt style")
        if len(set(v)) != len(v):
            raise ValueError(f"styles repeat: {v}")
        return v

    @field_validator("target_modules")
    @classmethod
    def _targets_present(cls, v: str | tuple[str, ...]) -> str | tuple[str, ...]:
        if not v:
            raise ValueError("need at least one target module")
        return v
