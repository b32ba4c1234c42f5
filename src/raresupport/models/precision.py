"""The precision matmuls run in, for training and scoring alike: one rule, one setting.

``mixed_precision="auto"`` runs matmuls under bf16 autocast where the hardware multiplies bf16
natively (CUDA with bf16; x86 CPUs with AVX512-BF16 or AMX) and in full precision elsewhere.
Weights stay as loaded (float32 on CPU), so only the matmul inputs are rounded.

Autocast is applied by the trainer and the scorers rather than through
``Accelerator(mixed_precision=...)`` because accelerate's state is a per-process singleton: a
second run in the same process with another setting would fail. ``accelerate launch
--mixed_precision`` still works on top.
"""

from __future__ import annotations

from contextlib import nullcontext
from functools import cache
from typing import Any, Literal

MixedPrecision = Literal["auto", "no", "bf16"]


@cache
def cpu_has_fast_bf16() -> bool:
    """Whether this x86 CPU multiplies bf16 natively (AVX512-BF16 or AMX); False elsewhere.

    Read once per process: every scoring call asks.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def use_bf16(setting: str, device: Any) -> bool:
    """``auto``: bf16 on CUDA with bf16 and on fast-bf16 CPUs; ``bf16``: always; ``no``: never.

    ``device`` is a ``torch.device`` or its string (``"cpu"``, ``"cuda:1"``).
    """
    import torch

    if setting != "auto":
        return setting == "bf16"
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_fast_bf16()


def autocast(setting: str, device: Any) -> Any:
    """A ``torch.autocast`` to bf16 when :func:`use_bf16` says so, else a no-op context."""
    import torch

    if not use_bf16(setting, device):
        return nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
