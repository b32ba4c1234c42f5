"""Scoring speed in a fresh process vs in the process that just trained (run on demand).

    python benchmarks/bench_inprocess.py                  # SmolLM2-135M, 60 items, 40 steps
    python benchmarks/bench_inprocess.py --steps 80 --items 120
    python benchmarks/bench_inprocess.py --smoke          # tiny model, seconds (CI runs it)

``raresupport run`` trains and then scores in one process; scoring there was once measured
1.5-3x slower than the same cells in a fresh process. This reproduces it: it scores the same
benchmark items (``letter`` + ``loglik``, as the run does) before training (fresh), trains an
adapter for ``--steps`` steps in the same process, scores the same cells again with the base
model and with the adapter (loaded from disk, as the pipeline does), and scores the adapter once
more in a child process. It prints each time and the ratios in-process / fresh; a ratio near 1
means the run's scoring pays nothing for having trained first.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from raresupport.config import RunConfig
from raresupport.data import load_benchmark
from raresupport.diseases import load_disease
from raresupport.evaluate.runner import evaluate_model
from raresupport.models import LocalModel

METHODS = ("letter", "loglik")


def score(model: str, adapter: str | None, items: list, batch_size: int) -> float:
    """Seconds to load ``model`` (+ ``adapter``) and score ``items`` with the run's methods."""
    t0 = time.perf_counter()
    backend = LocalModel.load(model, adapter=adapter)
    evaluate_model(backend, items, METHODS, batch_size=batch_size, progress=False)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--items", type=int, default=60, help="benchmark items scored per cell")
    ap.add_argument("--steps", type=int, default=40, help="training steps in between")
    ap.add_argument("--n", type=int, default=200, help="vignettes generated for training")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--child", nargs=2, metavar=("ADAPTER", "JSON"), help=argparse.SUPPRESS)
    ap.add_argument("--smoke", action="store_true", help="tiny model, 8 items, 3 steps: seconds")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="inprocess-"))
    if args.smoke:
        from _common import smoke_model

        args.model, args.items, args.steps, args.n = str(smoke_model(work)), 8, 3, 24
    disease = load_disease("hyperhidrosis")
    items = load_benchmark(disease.benchmark_path)[: args.items]
    batch = RunConfig(disease="hyperhidrosis").evaluate.batch_size
    if args.child:  # the fresh-process measurement, after the same warm-up as the parent's
        score(args.model, None, items[:4], batch)
        print(json.dumps({"seconds": score(args.model, args.child[0], items, batch)}))
        return
    from _common import machine_line

    print(machine_line(torch.get_num_threads())[0], flush=True)
    from raresupport.generate import get_generator
    from raresupport.generate.dataset import generate_dataset
    from raresupport.train.lora import train_lora

    score(args.model, None, items[:4], batch)  # warm-up: first-call costs out of the figures
    fresh = score(args.model, None, items, batch)
    generate_dataset(disease, get_generator("grounded"), args.n, work / "data", seed=0)
    cfg = RunConfig(disease="hyperhidrosis").train.model_copy(
        update={"max_steps": args.steps, "save_every_steps": 10_000})
    t0 = time.perf_counter()
    adapter = train_lora(args.model, work / "data", work / "adapter", cfg, progress=False)
    trained = time.perf_counter() - t0
    after_base = score(args.model, None, items, batch)
    after_tuned = score(args.model, str(adapter), items, batch)
    child = subprocess.run(
        [sys.executable, __file__, "--model", args.model, "--items", str(args.items),
         "--child", str(adapter), "{}"], capture_output=True, text=True, check=True,
        cwd=Path(__file__).parent)  # fmt: skip
    fresh_tuned = json.loads(child.stdout.strip().splitlines()[-1])["seconds"]
    print(f"{args.model}: {len(items)} items x {METHODS}, batch {batch}; trained {args.steps} "
          f"steps in {trained:.1f}s\n"
          f"  base  fresh {fresh:.2f}s, after training {after_base:.2f}s: "
          f"in-process / fresh = {after_base / fresh:.2f}\n"
          f"  tuned fresh process {fresh_tuned:.2f}s, after training {after_tuned:.2f}s: "
          f"in-process / fresh = {after_tuned / fresh_tuned:.2f}", flush=True)


if __name__ == "__main__":
    main()
