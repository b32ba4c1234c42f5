"""Static dataset vs one feedback round, same total training steps (run on demand).

    python benchmarks/ablation_feedback.py --out runs/ablation                  # SmolLM2 defaults
    python benchmarks/ablation_feedback.py --smoke                               # tiny model

The original study's ablation, offline: both arms start from the same generated dataset v1
(same generator, seed and size) and train the same number of optimiser steps.

* ``static``: ``--steps`` steps on v1 (``raresupport loop --rounds 0``);
* ``feedback``: ``--steps`` - ``--round-steps`` steps on v1, then round 1 answers ``--items``
  fresh items, the offline ``spec`` reviewer approves or corrects them, and training continues
  from that adapter for ``--round-steps`` steps on v2 (``raresupport loop --rounds 1``).

Both arms are scored by the headline method on the disease's shipped benchmark and its
out-of-domain control; the script prints and writes (``OUT/ablation.json``, ``OUT/ablation.md``)
accuracy with 95 % Wilson intervals and McNemar's paired test between the arms. Whether feedback
helps is the finding, either way.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from raresupport.config import EvalConfig, GenerateConfig, RunConfig
from raresupport.evaluate.metrics import mcnemar_test
from raresupport.retrieve.config import RetrievalConfig
from raresupport.review.config import LoopConfig, ReviewConfig
from raresupport.review.rounds import run_loop
from raresupport.train.config import TrainConfig


def configs(a: argparse.Namespace) -> dict[str, LoopConfig]:
    """The two arms' loop configurations."""
    if not 0 < a.round_steps < a.steps:
        raise SystemExit("--round-steps must be between 0 and --steps")
    train = {"max_steps": a.steps, "top_layers": a.top_layers or None, "lr": a.lr,
             "batch_size": a.batch_size,
             "max_length": a.max_length}  # fmt: skip
    run = RunConfig(
        disease=a.disease, model=a.model, generate=GenerateConfig(n=a.n, seed=a.seed),
        retrieval=RetrievalConfig(k=a.k),
        train=TrainConfig(**train), evaluate=EvalConfig(methods=(a.method,), headline=a.method),
    )  # fmt: skip
    review = ReviewConfig(reviewer="spec", n_items=a.items, explanation_tokens=0)
    first = run.model_copy(update={
        "train": TrainConfig(**{**train, "max_steps": a.steps - a.round_steps})})  # fmt: skip
    return {
        "static": LoopConfig(run=run, rounds=0, review=review),
        "feedback": LoopConfig(
            run=first, rounds=1, review=review, retrain="resume",
            round_train=TrainConfig(**{**train, "max_steps": a.round_steps}),
        ),
    }  # fmt: skip


def _block(out: Path, r: int, method: str, cell: str) -> dict[str, Any] | None:
    path = out / "rounds" / str(r) / cell / "metrics.json"
    if not path.is_file():
        return None
    metrics = json.loads(path.read_text())
    return {b: v["by_method"][method] for b, v in metrics["benchmarks"].items()}


def compare(out: Path, method: str) -> dict[str, Any]:
    """Accuracy per arm, cell and benchmark, and McNemar between the arms (paired by item).

    Cells: ``eval`` (no notes) and, with retrieval on, ``eval+notes`` (the run's headline cell).
    """
    result: dict[str, Any] = {"method": method, "cells": {}}
    for cell in ("eval", "eval+notes"):
        arms = {"static": _block(out / "static", 0, method, cell),
                "feedback": _block(out / "feedback", 1, method, cell)}  # fmt: skip
        if arms["static"] is None or arms["feedback"] is None:
            continue
        benches: dict[str, Any] = {}
        for bench in arms["static"]:
            s, f = arms["static"][bench], arms["feedback"][bench]
            benches[bench] = {
                arm: {"acc": b["overall"], "ci": b["overall_ci"], "n": b["n"],
                      "by_task": {t: v["acc"] for t, v in b["by_task"].items()}}
                for arm, b in (("static", s), ("feedback", f))
            } | {"mcnemar": mcnemar_test(s["correct"], f["correct"])}  # fmt: skip
        result["cells"]["notes" if cell.endswith("notes") else "plain"] = benches
    result["review"] = json.loads((out / "feedback" / "rounds" / "1" / "review.json").read_text())
    return result


def markdown(result: dict[str, Any]) -> str:
    lines = [f"Method: {result['method']}. Round-1 review: {result['review']['items']} items, "
             f"{result['review']['approve']} approved, {result['review']['correct']} corrected.",
             "", "| cell | benchmark | static | feedback | McNemar p |",
             "|---|---|---|---|---|"]  # fmt: skip
    for cell, benches in result["cells"].items():
        for bench, b in benches.items():
            cells = [f"{100 * b[a]['acc']:.1f} % [{100 * b[a]['ci'][0]:.1f}, "
                     f"{100 * b[a]['ci'][1]:.1f}] (n={b[a]['n']})"
                     for a in ("static", "feedback")]  # fmt: skip
            lines.append(f"| {cell} | {bench} | {cells[0]} | {cells[1]} | "
                         f"{b['mcnemar']['p_value']:.3g} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="output folder (required unless --smoke)")
    ap.add_argument("--smoke", action="store_true", help="tiny model, 24 items: seconds")
    ap.add_argument("--disease", default="hyperhidrosis")
    run, tr = RunConfig(disease="hyperhidrosis"), TrainConfig()  # the run's own defaults
    ap.add_argument("--model", default=run.model)
    ap.add_argument("--n", type=int, default=run.generate.n, help="vignettes in v1")
    ap.add_argument("--seed", type=int, default=run.generate.seed)
    ap.add_argument("--steps", type=int, default=340,
                    help="total optimiser steps per arm (about 2.5 epochs of 1080 train items)")
    ap.add_argument("--round-steps", type=int, default=60, help="feedback arm: steps on v2")
    ap.add_argument("--items", type=int, default=120, help="fresh items reviewed in round 1")
    ap.add_argument("--lr", type=float, default=tr.lr)
    ap.add_argument("--top-layers", type=int, default=tr.top_layers or 0, help="0: all layers")
    ap.add_argument("--batch-size", type=int, default=tr.batch_size)
    ap.add_argument("--max-length", type=int, default=tr.max_length)
    ap.add_argument("--k", type=int, default=run.retrieval.k,
                    help="notes per prompt (0: no retrieval, half the scoring and shorter "
                    "training sequences)")
    ap.add_argument("--method", default=run.evaluate.headline, choices=("loglik", "letter"))
    a = ap.parse_args(argv)
    if a.smoke:
        import tempfile

        from _common import smoke_model

        a.out = a.out or Path(tempfile.mkdtemp(prefix="ablation-smoke-"))
        a.model, a.n, a.steps, a.round_steps, a.items = str(smoke_model(a.out)), 24, 3, 1, 4
        a.top_layers, a.batch_size, a.max_length = 0, 4, 256
    elif a.out is None:
        ap.error("--out is required")
    for arm, cfg in configs(a).items():
        run_loop(cfg, a.out / arm, log=lambda m, arm=arm: print(f"[{arm}] {m}", flush=True))
    result = compare(a.out, a.method)
    (a.out / "ablation.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    text = markdown(result)
    (a.out / "ablation.md").write_text(text, encoding="utf-8")
    print(text)
    return result


if __name__ == "__main__":
    main()
