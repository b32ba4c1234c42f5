"""What ``raresupport run`` does, step by step, through the top-level Python API only.

Run: python examples/quickstart.py [--model smollm2-135m] [--out runs/quickstart] [--n 1200]

Each step is the one ``raresupport.pipeline`` runs, with the same configuration (a RunConfig),
so ``raresupport run hyperhidrosis --out DIR`` gives the same data, adapter and metrics.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import raresupport as rs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--disease", default="hyperhidrosis", help="id or folder")
    parser.add_argument("--model", default=rs.DEFAULT_MODEL)
    parser.add_argument("--out", type=Path, default=Path("runs/quickstart"))
    parser.add_argument("--n", type=int, default=rs.GenerateConfig().n)
    args = parser.parse_args()

    config = rs.RunConfig(
        disease=args.disease, model=args.model, generate=rs.GenerateConfig(n=args.n)
    )
    disease = rs.load_disease(config.disease)
    system_prompt = disease.spec.system_prompt  # `run` trains and scores the disease's prompt

    gen = config.generate
    data = args.out / "data"
    generator = rs.get_generator(gen.generator, gen.options, cache_dir=data / ".cache")
    manifest = rs.generate_dataset(disease, generator, gen.n, data, seed=gen.seed,
                                   avoid=gen.avoid, val_fraction=gen.val_fraction)  # fmt: skip
    print("dataset:", manifest.counts)

    train = config.train.model_copy(update={"system_prompt": system_prompt})
    adapter = rs.train_lora(config.model, data, args.out / "adapter", train)

    benches = [p for p in (disease.benchmark_path, disease.ood_path) if p is not None]
    metrics = {}
    for side, extra in (("baseline", None), ("tuned", adapter)):
        backend = rs.LocalModel.load(config.model, adapter=extra)
        metrics[side] = rs.evaluate_benchmarks(
            backend, benches, config.evaluate.methods, system_prompt,
            config.evaluate.batch_size, predictions_path=args.out / side / "predictions.jsonl",
        )  # fmt: skip
    paths = rs.write_report(args.out, metrics["baseline"], metrics["tuned"],
                            config.evaluate.headline)  # fmt: skip
    print("report:", paths["html"])


if __name__ == "__main__":
    main()
