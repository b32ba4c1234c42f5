"""The model side of training: LoRA wrapping, optimizer and schedule."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from raresupport.train.config import TrainConfig


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


def wrap_lora(base: nn.Module, config: TrainConfig) -> nn.Module:
    from peft import get_peft_model

    lora = lora_config(base, config)
    torch.manual_seed(config.seed)  # LoRA A matrices are random: same seed, same adapter
    model = get_peft_model(base, lora)
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return model


def optimizer_and_schedule(model: nn.Module, config: TrainConfig, total_steps: int):
    from transformers import get_cosine_schedule_with_warmup

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    warmup = math.ceil(config.warmup_ratio * total_steps)
    return optimizer, get_cosine_schedule_with_warmup(optimizer, warmup, total_steps)
