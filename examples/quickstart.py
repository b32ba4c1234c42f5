"""The pipeline step by step through the Python API (what `raresupport run` does).

Run: python examples/quickstart.py [--model smollm2-135m] [--out runs/quickstart]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from raresupport import load_disease
from raresupport.evaluate.report import write_report
from raresupport.evaluate.runner import evaluate_benchmarks
from raresupport.generate import get_generator
from raresupport.generate.dataset import generate_dataset
from raresupport.models.load import load_model
from raresupport.train.config import TrainConfig
from raresupport.train.lora import train_lora


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--disease", default="hyperhidrosis", help="id or folder")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--out", type=Path, default=Path("runs/quickstart"))
    parser.add_argument("--n", type=int, default=180)
    args = parser.parse_args()

    disease = load_disease(args.disease)
    manifest = generate_dataset(disease, get_generator("grounded"), args.n, args.out / "data")
    print("dataset:", manifest.counts)

    config = TrainConfig(system_prompt=disease.spec.system_prompt)
    adapter = train_lora(args.model, args.out / "data", args.out / "adapter", config)

    benches = [disease.benchmark_path, disease.ood_path]
    results = {}
    for label, extra in (("baseline", None), ("tuned", adapter)):
        model, tokenizer = load_model(args.model, adapter=extra)
        results[label] = evaluate_benchmarks(model, tokenizer, benches, ("letter", "loglik"),
                                             disease.spec.system_prompt)
    paths = write_report(args.out, results["baseline"], results["tuned"], "loglik")
    print("report:", paths["html"])


if __name__ == "__main__":
    main()
