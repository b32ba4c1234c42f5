"""Training throughput of the LoRA trainer on synthetic vignettes (run on demand, not in CI).

    python benchmarks/bench_train.py                       # SmolLM2-135M, batch 8, 30 steps
    python benchmarks/bench_train.py --steps 20 --full-head  # also time the full-logits path

Prints tokens/s (real tokens, padding excluded), seconds per optimizer step, the loss over the
run and the peak RSS, so a default pipeline run can be sized from it. On a shared machine the
wall-clock figures move with other load; the per-step CPU seconds (all threads) do much less,
and ``cpu s/step / threads`` estimates the step time the run would take on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from _common import (
    backward_share,
    machine_line,
    param_count,
    share,
    smoke_model,
    train_gflop,
)

from raresupport.config import RunConfig
from raresupport.train.demo import demo_vignettes
from raresupport.train.lora import train_lora


def _peak_rss_mib() -> float:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def bench(model: str, n: int, config: Any) -> dict:
    """Train ``config.max_steps`` steps on ``n`` synthetic vignettes; return the run summary.

    Adds per-step wall and CPU seconds (the first step, which warms kernels, is left out).
    """
    marks: list[tuple[float, float]] = []

    def on_step(_: dict) -> None:
        marks.append((time.perf_counter(), time.process_time()))

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        out = train_lora(
            model, demo_vignettes(n), Path(tmp), config, resume=False, progress=False,
            on_step=on_step,
        )  # fmt: skip
        summary = json.loads((out / "train_summary.json").read_text())
        summary["wall_seconds_incl_load"] = round(time.perf_counter() - started, 2)
    walls = sorted(b[0] - a[0] for a, b in zip(marks, marks[1:]))
    cpus = sorted(b[1] - a[1] for a, b in zip(marks, marks[1:]))
    summary["median_wall_s_per_step"] = walls[len(walls) // 2] if walls else None
    summary["median_cpu_s_per_step"] = cpus[len(cpus) // 2] if cpus else None
    return summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--n", type=int, default=96, help="synthetic vignettes (x2 styles)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-length", type=int, default=320)
    ap.add_argument("--lr", type=float, default=None, help="default: the run's TrainConfig")
    ap.add_argument("--full-head", action="store_true", help="also run with full logits")
    ap.add_argument("--mixed-precision", default="auto", choices=["auto", "no", "bf16"])
    ap.add_argument("--dropout", type=float, default=None)
    ap.add_argument("--smoke", action="store_true", help="tiny model, 3 steps: seconds")
    args = ap.parse_args(argv)
    if args.smoke:
        args.model, args.n, args.steps, args.batch_size = str(smoke_model()), 12, 3, 4
    line, peak = machine_line(torch.get_num_threads())
    print(line)
    params = param_count(args.model)
    run_train = RunConfig(disease="hyperhidrosis").train  # LoRA settings as `run` uses them

    variants = [True, False] if args.full_head else [True]
    for head_only in variants:
        update = {"max_steps": args.steps, "batch_size": args.batch_size,
                  "max_length": args.max_length, "answer_only_head": head_only,
                  "mixed_precision": args.mixed_precision, "save_every_steps": 10_000}
        update |= {k: v for k, v in (("lr", args.lr), ("dropout", args.dropout)) if v is not None}
        cfg = run_train.model_copy(update=update)
        s = bench(args.model, args.n, cfg)
        work = train_gflop(params, s["tokens"], backward_share(args.model, cfg.top_layers))
        print(
            f"{args.model} answer_only_head={head_only} batch={args.batch_size} "
            f"max_length={args.max_length} steps={s['steps']} {s['mixed_precision']}: "
            f"{s['tokens_per_s']:.0f} tokens/s, {s['seconds_per_step']:.2f} s/step "
            f"(median {s['median_wall_s_per_step']:.2f} s wall, "
            f"{s['median_cpu_s_per_step']:.2f} s CPU on {torch.get_num_threads()} threads), "
            f"loss {s['first_loss']:.3f} -> {s['final_loss']:.3f} (mean of last 10), "
            f"{s['tokens'] / s['steps']:.0f} tokens/step, "
            f"wall incl. load {s['wall_seconds_incl_load']:.1f} s, "
            f"peak RSS {_peak_rss_mib():.0f} MiB; "
            f"{share(work, s['tokens'] / s['tokens_per_s'], peak, s['mixed_precision'])}",
            flush=True,
        )


if __name__ == "__main__":
    main()
