"""Accuracy of one training configuration: generate -> train -> score tuned (run on demand).

    python benchmarks/sweep_train.py                                          # the run defaults
    python benchmarks/sweep_train.py --smoke                                  # tiny model, seconds
    python benchmarks/sweep_train.py --n 600 --epochs 5 --targets q_proj,k_proj,v_proj,o_proj
    python benchmarks/sweep_train.py --n 600 --epochs 5 --replay 0.3 --top-layers 12

Scores the tuned model with `loglik` and `letter` on the disease's benchmark, its
out-of-domain control and the run's own generated ``val.jsonl``, and appends one JSON line per
configuration to ``--results``. This is how the table in docs/training.md was made. Choose
between configurations on ``val``: choosing on the shipped benchmark tunes to it, which the
held-out questions are there to catch. Untuned figures come from ``raresupport eval``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from raresupport.config import GenerateConfig, RunConfig
from raresupport.data import load_benchmark, load_vignettes
from raresupport.diseases import load_disease
from raresupport.evaluate.runner import evaluate_benchmarks
from raresupport.generate import get_generator
from raresupport.generate.dataset import generate_dataset
from raresupport.models import LocalModel
from raresupport.train.lora import train_lora


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--disease", default="hyperhidrosis")
    ap.add_argument("--model", default="smollm2-135m")
    run = RunConfig(disease="hyperhidrosis").train  # every default is the run's own
    ap.add_argument("--n", type=int, default=GenerateConfig().n, help="offline items to generate")
    ap.add_argument("--epochs", type=float, default=run.epochs)
    ap.add_argument("--lr", type=float, default=run.lr)
    ap.add_argument("--styles", default=",".join(run.styles), help="comma-separated: letter,cloze")
    ap.add_argument("--top-layers", type=int, default=run.top_layers or 0, help="0: all layers")
    ap.add_argument("--targets", default=run.target_modules if isinstance(run.target_modules, str)
                    else ",".join(run.target_modules), help="all-linear or comma-separated names")
    ap.add_argument("--replay", type=float, default=run.replay)
    ap.add_argument("--out", type=Path, default=Path("runs/sweep"))
    ap.add_argument("--results", type=Path, default=None, help="default: OUT/results.jsonl")
    ap.add_argument("--smoke", action="store_true", help="tiny model, 24 items: seconds")
    args = ap.parse_args()
    if args.smoke:
        from _common import smoke_model

        args.out = Path(tempfile.mkdtemp(prefix="sweep-smoke-"))
        args.model, args.n, args.epochs = str(smoke_model(args.out)), 24, 0.5
    args.results = args.results or args.out / "results.jsonl"

    disease = load_disease(args.disease)
    name = (f"n{args.n}-e{args.epochs}-lr{args.lr}-{args.styles.replace(',', '+')}-top"
            f"{args.top_layers}-{args.targets.replace(',', '+')}-replay{args.replay}")
    out = args.out / name
    if not (out / "data" / "manifest.json").exists():
        generate_dataset(disease, get_generator("grounded"), args.n, out / "data", seed=0)
    targets = args.targets if args.targets == "all-linear" else tuple(args.targets.split(","))
    cfg = RunConfig(disease=args.disease).train.model_copy(update=dict(
        lr=args.lr, epochs=args.epochs, styles=tuple(args.styles.split(",")),
        top_layers=args.top_layers or None, target_modules=targets, replay=args.replay,
        system_prompt=disease.spec.system_prompt,
    ))  # fmt: skip
    t0 = time.perf_counter()
    train_lora(args.model, out / "data", out / "adapter", cfg, resume=True)
    train_s = time.perf_counter() - t0
    backend = LocalModel.load(args.model, adapter=out / "adapter")
    sets = {
        "benchmark": load_benchmark(disease.benchmark_path),
        "val": [v.to_mcq() for v in load_vignettes(out / "data" / "val.jsonl")],
    }
    if disease.ood_path is not None:
        sets["ood"] = load_benchmark(disease.ood_path)
    metrics = evaluate_benchmarks(
        backend, sets, ["loglik", "letter"], disease.spec.system_prompt, 8,
        predictions_path=out / "predictions.jsonl",
    )  # fmt: skip
    row: dict = {"config": name, "train_s": round(train_s, 1)}
    for bench, m in metrics["benchmarks"].items():
        for method, r in m["by_method"].items():
            row[f"{bench}.{method}"] = round(r["overall"], 3)
        row[f"{bench}.loglik.by_task"] = {
            t: round(v["acc"], 3) for t, v in m["by_method"]["loglik"]["by_task"].items()
        }
    print(json.dumps(row))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    with args.results.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
