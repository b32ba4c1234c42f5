"""What every benchmark script shares: the machine line, its measured matmul peak, smoke models.

Machines here differ ~3x in speed (AVX2 vs AVX-512), so an absolute time is only a note: each
script prints ratios against the peer tool measured in the same run, and the share of this
machine's own fp32 matmul peak (measured in the same process, with the same thread count).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

#: CPU flags that change torch's CPU speed most (from /proc/cpuinfo)
_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def cpu_flags() -> list[str]:
    """The speed-relevant CPU flags this machine has (Linux; empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    for line in text.splitlines():
        if line.startswith("flags"):
            have = set(line.split(":", 1)[1].split())
            return [f for f in _FLAGS if f in have]
    return []


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def matmul_peak_gflops(dtype: str = "float32", size: int = 256, seconds: float = 1.0) -> float:
    """Best GFLOP/s of square ``dtype`` matmuls of ``size`` over about ``seconds`` (current
    threads).

    A measured ceiling, not the vendor's peak: achieved/peak then reads the same on a fast and a
    slow machine. Training under bf16 autocast is held against the bf16 peak (AMX or
    AVX512-BF16 make it several times the fp32 one), everything else against fp32. ``size``
    256 keeps one matmul (~0.2 ms) inside a scheduler slice, so the best of many is a clean
    figure even on an oversubscribed machine (measured here under load 14: 1024 gave 26, 256 gave
    195 GFLOP/s fp32, the quiet 1024 figure being 207).
    """
    import torch

    kind = getattr(torch, dtype)
    a, b = torch.randn(size, size, dtype=kind), torch.randn(size, size, dtype=kind)
    torch.mm(a, b)  # warm-up
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * size**3 / (time.perf_counter() - t0) / 1e9)
    return best


def machine_line(threads: int) -> tuple[str, dict[str, float]]:
    """One line describing the machine and its measured peaks; also returns them (GFLOP/s by
    ``"fp32"`` / ``"bf16"``)."""
    peak = {"fp32": matmul_peak_gflops("float32"), "bf16": matmul_peak_gflops("bfloat16")}
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    flags = ",".join(cpu_flags()) or "-"
    line = (f"machine: {cpu_model()}, {os.cpu_count()} cores, flags {flags}, "
            f"torch threads {threads}, load {load}; measured matmul peak fp32 {peak['fp32']:.1f}, "
            f"bf16 {peak['bf16']:.1f} GFLOP/s")
    return line, peak


def train_gflop(params: int, tokens: int, backward_share: float = 1.0) -> float:
    """FLOPs of LoRA training on ``tokens`` tokens: 2PT forward + 2PT x ``backward_share``.

    Frozen weights get no gradient, so the backward pass costs only the activation gradients
    (2PT), and only down to the lowest adapted layer: ``backward_share`` = adapted layers / all
    layers (``top_layers``). LoRA's own weight gradients are negligible at r=16. Full fine-tuning
    would be the usual 6PT; we count what LoRA needs, not that.
    """
    return 2 * params * tokens * (1 + backward_share) / 1e9


def backward_share(model: str | Path, top_layers: int | None) -> float:
    """Adapted share of the decoder layers (1.0 when every layer is adapted)."""
    from transformers import AutoConfig

    from raresupport.models.load import resolve_model

    layers = AutoConfig.from_pretrained(resolve_model(str(model))).num_hidden_layers
    return 1.0 if top_layers is None else min(top_layers, layers) / layers


def score_gflop(params: int, tokens: int) -> float:
    """Forward-only FLOPs of scoring ``tokens`` tokens: 2 x params x tokens."""
    return 2 * params * tokens / 1e9


def share(gflop: float, seconds: float, peak: dict[str, float], precision: str = "fp32") -> str:
    """``"12.3 GFLOP/s = 4.5 % of measured bf16 peak"`` for ``gflop`` of work in ``seconds``
    (``precision``: "fp32", or "bf16"/"fp16" for a run under mixed precision)."""
    key = "bf16" if precision in ("bf16", "fp16") else "fp32"
    rate = gflop / seconds if seconds > 0 else float("nan")
    return f"{rate:.1f} GFLOP/s = {100 * rate / peak[key]:.1f} % of measured {key} peak"


def param_count(model_dir: str | Path) -> int:
    """Parameters of the base model in ``model_dir`` (any name ``load_model`` resolves)."""
    from raresupport.models.load import load_model

    model, _ = load_model(str(model_dir))
    return sum(p.numel() for p in model.parameters())


def smoke_model(work: Path | None = None) -> Path:
    """A tiny Llama (seconds to build) for ``--smoke`` runs: checks a script end to end."""
    from raresupport.models.tiny import build_tiny_model

    work = work or Path(tempfile.mkdtemp(prefix="bench-smoke-"))
    return build_tiny_model(work / "tiny-model")
