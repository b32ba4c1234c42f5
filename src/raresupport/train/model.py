"""The model side of training: LoRA wrapping, the precision to train in, optimizer and schedule."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from raresupport.train.config import TrainConfig


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
