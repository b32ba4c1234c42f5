"""Throughput of the evaluation scorers (questions/s) on the embedded SmolLM2-135M.

On demand, not a test::

    python benchmarks/bench_eval.py [--benchmark FILE] [--batch-sizes 1,8] [--limit N]
    python benchmarks/bench_eval.py --smoke     # tiny model, seconds (the test suite runs it)

Uses the shipped hyperhidrosis benchmark when present, else a synthetic interchange file.
Reports letter, loglik (shared-prompt KV cache) and loglik without the cache trick (pairs).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from _common import machine_line, param_count, score_gflop, share, smoke_model

SHIPPED = (
    Path(__file__).resolve().parents[1] / "src/raresupport/diseases/hyperhidrosis/benchmark.jsonl"
)


def synthetic_benchmark(path: Path, n: int = 32, seed: int = 0) -> Path:
    """A deterministic interchange file of clinic-like questions (for when none is shipped)."""
    rng = random.Random(seed)
    words = ("sweating palms axillae soles night fever weight loss anxiety tremor heat exercise "
             "family history onset childhood bilateral symmetric medication").split()  # fmt: skip
    rows = []
    for i in range(n):
        question = f"A {rng.randint(15, 70)}-year-old reports " + " ".join(rng.sample(words, 12))
        options = {L: " ".join(rng.sample(words, rng.randint(2, 6))) for L in "ABCD"}
        rows.append({"id": f"syn-{i}", "task": rng.choice(["diagnosis", "treatment"]),
                     "question": question + ". Most likely?", "options": options,
                     "answer": rng.choice("ABCD")})  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def main() -> None:
    from raresupport.data.benchmark import load_benchmark
    from raresupport.evaluate import evaluate_model
    from raresupport.evaluate.base import model_device
    from raresupport.models import LocalModel
    from raresupport.models.precision import use_bf16

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--benchmark", type=Path, default=None)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--batch-sizes", default="1,8")
    ap.add_argument("--limit", type=int, default=0, help="score only the first N items")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: default)")
    ap.add_argument("--no-pairs", action="store_true", help="skip the slower pairs variant")
    ap.add_argument("--mixed-precision", default="auto", choices=["auto", "no", "bf16"],
                    help="bf16 autocast (EvalConfig.mixed_precision); auto: where bf16 is native")
    ap.add_argument("--smoke", action="store_true", help="tiny model, 8 items: seconds")
    args = ap.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.smoke:
        args.model, args.limit, args.batch_sizes = str(smoke_model()), 8, "8"
    line, peak = machine_line(torch.get_num_threads())
    print(line)

    path = args.benchmark or (SHIPPED if SHIPPED.is_file() else None)
    if path is None:
        path = synthetic_benchmark(Path(tempfile.mkdtemp()) / "synthetic.jsonl")
    items = load_benchmark(path)[: args.limit or None]
    start = time.perf_counter()
    backend = LocalModel.load(args.model)
    params = param_count(args.model)
    print(f"model {args.model} loaded in {time.perf_counter() - start:.1f} s; "
          f"{len(items)} items from {path}")  # fmt: skip
    variants = [("letter", {}), ("loglik", {})]
    if not args.no_pairs:
        variants.append(("loglik", {"shared_prompt": False}))
    evaluate_model(backend, items[:2], ("letter",), progress=False)  # warm-up
    bf16 = use_bf16(args.mixed_precision, model_device(backend.model))
    print(f"{'method':<16}{'batch':>6}{'q/s':>8}{'acc':>8}  achieved")
    for bs in (int(b) for b in args.batch_sizes.split(",")):
        for method, opts in variants:
            res = evaluate_model(backend, items, (method,), None, bs, progress=False,
                                 mixed_precision=args.mixed_precision, **opts)  # fmt: skip
            r = res[method]
            label = method + (" (pairs)" if opts else "")
            acc = sum(p.correct for p in r.predictions) / len(r.predictions)
            tokens = _prompt_tokens(backend.tokenizer, items) * (1 if method == "letter" else 2)
            seconds = len(items) / r.questions_per_s
            achieved = share(score_gflop(params, tokens), seconds, peak, "bf16" if bf16 else "fp32")
            print(f"{label:<16}{bs:>6}{r.questions_per_s:>8.2f}{acc:>8.1%}  {achieved}", flush=True)


def _prompt_tokens(tok, items) -> int:
    """Tokens of the questions and options: a rough size of the forward work (loglik scores
    each option after a shared prompt, so about twice the question tokens)."""
    text = [i.question + " ".join(i.options.values()) for i in items]
    return sum(len(ids) for ids in tok(text)["input_ids"])


if __name__ == "__main__":
    main()
