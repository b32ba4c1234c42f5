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


def matmul_peak_gflops(size: int = 1024, seconds: float = 1.0) -> float:
    """Best fp32 GFLOP/s of square matmuls of ``size`` over about ``seconds`` (current threads).

    A measured ceiling, not the vendor's peak: achieved/peak then reads the same on a fast and a
    slow machine.
    """
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # warm-up
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * size**3 / (time.perf_counter() - t0) / 1e9)
    return best


def machine_line(threads: int) -> tuple[str, float]:
    """One line describing the machine and its measured peak; also returns the peak (GFLOP/s)."""
    peak = matmul_peak_gflops()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    flags = ",".join(cpu_flags()) or "-"
    line = (f"machine: {cpu_model()}, {os.cpu_count()} cores, flags {flags}, "
            f"torch threads {threads}, load {load}; measured fp32 matmul peak {peak:.1f} GFLOP/s")
    return line, peak


def train_gflop(params: int, tokens: int) -> float:
    """Model FLOPs of training on ``tokens`` tokens: 6 x params x tokens (the PaLM MFU convention).

    LoRA skips the frozen weights' gradients, so the work actually done is nearer 4x; quoting the
    conventional 6x keeps the share comparable with published MFU figures.
    """
    return 6 * params * tokens / 1e9


def score_gflop(params: int, tokens: int) -> float:
    """Forward-only FLOPs of scoring ``tokens`` tokens: 2 x params x tokens."""
    return 2 * params * tokens / 1e9


def share(gflop: float, seconds: float, peak: float) -> str:
    """``"12.3 GFLOP/s = 4.5 % of peak"`` for work of ``gflop`` done in ``seconds``."""
    rate = gflop / seconds if seconds > 0 else float("nan")
    return f"{rate:.1f} GFLOP/s = {100 * rate / peak:.1f} % of measured peak"


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
