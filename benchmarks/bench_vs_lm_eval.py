"""Our evaluator vs lm-evaluation-harness on the same model, items and tokens (on demand, not CI).

    python benchmarks/bench_vs_lm_eval.py --limit 40 --adapter runs/bench-trl/ours
    python benchmarks/bench_vs_lm_eval.py --smoke   # tiny model, seconds (the test suite runs it)

Needs lm-eval installed (the ``dev`` extra has it). Exports the benchmark
with ``raresupport export lm-eval`` (prompts pre-rendered with the chat template), then, for
the base model and the base + adapter, runs in this one process, interleaved in chunks of
``--chunk`` items (lm-eval, then ours, on the same items; the order alternates per chunk) so
that load from other processes on a shared machine falls on both sides alike:

* lm-eval (``HFLM`` = ``--model hf`` with ``pretrained=<SmolLM2 folder>[,peft=<adapter>]``)
  through ``simple_evaluate`` with ``log_samples``;
* our scorers ``loglik`` and ``letter`` through ``evaluate_model`` (what ``raresupport eval``
  runs after loading the model).

Model loading is excluded on both sides. Prints questions/s and their ratios, accuracies, and
an item-by-item reconciliation of the option log-likelihoods and of every differing prediction.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import machine_line, param_count, score_gflop, share, smoke_model

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "src/raresupport/diseases/hyperhidrosis/benchmark.jsonl"


@dataclass
class LmEvalRun:
    """lm-eval's per-item option log-likelihoods and predictions, with its best wall time."""

    seconds: float
    cpu_seconds: float
    metrics: dict[str, float]
    lls: dict[str, list[float]]
    preds: dict[str, dict[str, int]]  # id -> {"acc": idx, "acc_norm": idx, "acc_bytes": idx}


@dataclass
class OursRun:
    """Our predictions per method, with the best wall time of each method."""

    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    preds: dict[str, list[Any]] = field(default_factory=dict)


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def argmax(xs: list[float]) -> int:
    """First index of the maximum (numpy's tie rule, which lm-eval uses)."""
    return max(range(len(xs)), key=lambda i: (xs[i], -i))


# --------------------------------------------------------------------------- lm-eval side


def run_lm_eval(lm: Any, task: str, manager: Any, indices: list[int] | None) -> LmEvalRun:
    """One ``simple_evaluate`` over the exported task (or the docs at ``indices``).

    ``metrics`` holds lm-eval's own per-sample ``acc``/``acc_norm``/``acc_bytes`` flags summed
    (so chunks can be merged); predictions are recomputed from the logged log-likelihoods and
    checked against those flags.
    """
    from lm_eval import simple_evaluate

    start, cpu_start = time.perf_counter(), time.process_time()
    out = simple_evaluate(
        model=lm, tasks=[task], task_manager=manager, log_samples=True,
        samples={task: indices} if indices is not None else None, verbosity="WARNING",
    )  # fmt: skip
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    metrics = dict.fromkeys(("acc", "acc_norm", "acc_bytes"), 0.0)
    lls: dict[str, list[float]] = {}
    preds: dict[str, dict[str, int]] = {}
    for sample in out["samples"][task]:
        doc = sample["doc"]
        ll = [float(r[0][0]) for r in sample["resps"]]
        chars = [len(c) for c in doc["choices"]]
        nbytes = [len(c.encode("utf-8")) for c in doc["choices"]]
        lls[doc["id"]] = ll
        pred = {
            "acc": argmax(ll),
            "acc_norm": argmax([x / n for x, n in zip(ll, chars)]),
            "acc_bytes": argmax([x / n for x, n in zip(ll, nbytes)]),
        }
        for m in metrics:
            metrics[m] += float(sample[m])
            assert (pred[m] == doc["label"]) == bool(sample[m]), (doc["id"], m)
        preds[doc["id"]] = pred
    return LmEvalRun(seconds, cpu, metrics, lls, preds)


def merge_lm_eval(runs: list[LmEvalRun]) -> LmEvalRun:
    """Chunks -> one run: times added, per-item results joined, metrics turned into means."""
    n = sum(len(r.lls) for r in runs)
    metrics = {m: sum(r.metrics[m] for r in runs) / n for m in runs[0].metrics}
    lls = {k: v for r in runs for k, v in r.lls.items()}
    preds = {k: v for r in runs for k, v in r.preds.items()}
    return LmEvalRun(sum(r.seconds for r in runs), sum(r.cpu_seconds for r in runs), metrics,
                     lls, preds)  # fmt: skip


# --------------------------------------------------------------------------- comparison


def reconcile(items: list[Any], lm: LmEvalRun, ours: list[Any]) -> dict[str, Any]:
    """Item-by-item agreement of lm-eval's numbers with ours, and why predictions differ.

    lm-eval scores ``"\\n" + option`` (it moves the prompt's trailing newline into the
    continuation); the newline's log-probability ``c`` is the same for all options of an item,
    so ``lm_ll = c + our_sum`` up to float noise.
    """
    by_id = {p.id: p for p in ours}
    letters = {i.id: list(i.options) for i in items}
    resid, cs, rows = 0.0, [], []
    counts = {"acc_vs_sum": 0, "acc_norm_vs_per_char": 0, "acc_norm_explained": 0,
              "headline_vs_acc": 0, "headline_vs_acc_norm": 0, "headline_differs": 0,
              "headline_explained": 0}  # fmt: skip
    for item in items:
        p, ll, L = by_id[item.id], lm.lls[item.id], letters[item.id]
        sums = [p.extra["sum"][k] for k in L]
        toks = [p.extra["tokens"][k] for k in L]
        chars = [len(item.options[k]) for k in L]
        diffs = [a - b for a, b in zip(ll, sums)]
        c = statistics.median(diffs)
        cs.append(c)
        resid = max(resid, max(abs(d - c) for d in diffs))
        lm_acc, lm_norm = L[lm.preds[item.id]["acc"]], L[lm.preds[item.id]["acc_norm"]]
        our_sum, our_char = p.extra["variants"]["sum"], p.extra["variants"]["per_char"]
        # our numbers plus the newline term, normalised per character: lm-eval's acc_norm rule
        with_c = L[argmax([(s + c) / n for s, n in zip(sums, chars)])]
        # lm-eval's numbers minus the newline term, normalised per token: our headline rule
        lm_per_token = L[argmax([(x - c) / t for x, t in zip(ll, toks)])]
        row = {"id": item.id, "key": item.answer, "lm_acc": lm_acc, "lm_acc_norm": lm_norm,
               "ours_loglik": p.pred, "ours_sum": our_sum, "ours_per_char": our_char,
               "newline_c": round(c, 4)}  # fmt: skip
        notes = []
        if lm_acc != our_sum:
            counts["acc_vs_sum"] += 1
            gap = sorted(sums, reverse=True)
            notes.append(f"acc vs sum: our top-2 margin {gap[0] - gap[1]:.2e} (float noise)")
        if lm_norm != our_char:
            counts["acc_norm_vs_per_char"] += 1
            ok = with_c == lm_norm
            counts["acc_norm_explained"] += ok
            notes.append(
                f"acc_norm vs per_char: newline term c={c:.2f} added to each option's sum "
                f"{'reproduces' if ok else 'does NOT reproduce'} lm-eval's pick {lm_norm}"
            )
        counts["headline_vs_acc"] += p.pred != lm_acc
        counts["headline_vs_acc_norm"] += p.pred != lm_norm
        if p.pred != lm_acc or p.pred != lm_norm:
            ok = lm_per_token == p.pred
            counts["headline_differs"] += 1
            counts["headline_explained"] += ok
            notes.append(
                f"per-token rule on lm-eval's numbers ((ll - c) / our token counts) "
                f"{'gives' if ok else 'does NOT give'} our pick {p.pred}"
            )
        if notes:
            row["why"] = notes
            rows.append(row)
    return {"max_abs_residual": resid, "newline_c_median": statistics.median(cs),
            "counts": counts, "differing_items": rows}  # fmt: skip


# --------------------------------------------------------------------------- main


def _quick_adapter(model: str, out: Path, steps: int) -> Path:
    """A short LoRA run on the offline generator's vignettes, so the adapter path is exercised."""
    from raresupport.config import RunConfig
    from raresupport.diseases import load_disease
    from raresupport.generate import get_generator
    from raresupport.generate.dataset import generate_dataset
    from raresupport.train.lora import train_lora

    data = out / "data"
    generate_dataset(load_disease("hyperhidrosis"), get_generator("grounded"), 180, data, seed=0)
    run_train = RunConfig(disease="hyperhidrosis").train  # what `raresupport run` trains with
    cfg = run_train.model_copy(update={"max_steps": steps, "save_every_steps": 10**6})
    return train_lora(model, data, out / "adapter", cfg, resume=False, progress=False)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--benchmark", type=Path, default=SHIPPED)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--adapter", type=Path, default=None, help="PEFT adapter folder")
    ap.add_argument(
        "--train-steps",
        type=int,
        default=0,
        help="without --adapter: train one for N steps first (0: base model only)",
    )
    ap.add_argument("--limit", type=int, default=0, help="first N items only (0: all)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument(
        "--chunk", type=int, default=11,
        help="items per interleaved round (lm-eval, ours, ours...); 0: all at once",
    )  # fmt: skip
    ap.add_argument("--out", type=Path, default=None, help="folder for task files + results")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny model, 6 items, a 2-step adapter: seconds (the test suite runs it)")
    args = ap.parse_args(argv)  # fmt: skip
    if args.smoke:
        args.model, args.limit, args.chunk = str(smoke_model()), 6, 3
        args.train_steps = args.train_steps or 2

    import lm_eval
    import torch
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    from raresupport.data.benchmark import load_benchmark, write_jsonl
    from raresupport.evaluate import evaluate_model
    from raresupport.evaluate.export import export_lm_eval
    from raresupport.models import LocalModel
    from raresupport.models.load import load_model, resolve_model

    if args.threads:
        torch.set_num_threads(args.threads)
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-lm-eval-"))
    out.mkdir(parents=True, exist_ok=True)
    items = load_benchmark(args.benchmark)[: args.limit or None]
    bench = write_jsonl(out / f"{args.benchmark.stem}.jsonl", items)  # the same items for both
    model_dir = resolve_model(args.model)
    adapter = args.adapter
    if adapter is None and args.train_steps:
        adapter = _quick_adapter(args.model, out / "quick-adapter", args.train_steps)
    load_before = loadavg()
    line, peak = machine_line(torch.get_num_threads())
    print(f"{line}; torch {torch.__version__}, lm-eval {lm_eval.__version__}")
    params = param_count(args.model)
    print(f"load average before: {load_before}")
    n_opts = sorted({len(i.options) for i in items})
    chunk = args.chunk or len(items)
    print(f"benchmark {args.benchmark} -> {len(items)} items, options {n_opts}, "
          f"batch {args.batch_size}, interleaved in chunks of {chunk}\n")  # fmt: skip

    results: dict[str, Any] = {"items": len(items), "batch_size": args.batch_size, "variants": {}}
    for label, adp in [("base", None), ("adapter", adapter)]:
        if label == "adapter" and adp is None:
            continue
        _, tok = load_model(args.model)
        yaml_path = export_lm_eval(bench, out / f"task-{label}", tokenizer=tok)
        task = yaml_path.stem
        ours = LocalModel.load(args.model, adapter=adp)
        model_args: dict[str, Any] = {"pretrained": model_dir, "dtype": "float32",
                                      "batch_size": args.batch_size, "device": "cpu"}  # fmt: skip
        if adp is not None:
            model_args["peft"] = str(adp)
        lm = HFLM(**model_args)
        manager = TaskManager(include_path=str(yaml_path.parent))
        start = time.perf_counter()
        run_lm_eval(lm, task, manager, [0])  # warm-up; also builds the dataset cache
        evaluate_model(ours, items[:1], ("loglik", "letter"), progress=False)
        print(f"[{label}] warm-up (1 item each): {time.perf_counter() - start:.1f} s")
        lm_runs, tally = [], OursRun()
        chunk = args.chunk or len(items)
        for k, lo in enumerate(range(0, len(items), chunk)):
            idx = list(range(lo, min(lo + chunk, len(items))))
            steps = ["lm-eval", "loglik", "letter"]
            for step in steps if k % 2 == 0 else steps[::-1]:  # alternate order per chunk
                if step == "lm-eval":
                    lm_runs.append(run_lm_eval(lm, task, manager, idx))
                    continue
                cpu_start = time.process_time()
                res = evaluate_model(
                    ours, [items[i] for i in idx], (step,), None,
                    args.batch_size, progress=False, normalization="per_token",
                )[step]  # fmt: skip
                tally.seconds[step] = tally.seconds.get(step, 0.0) + res.seconds
                tally.cpu_seconds[step] = tally.cpu_seconds.get(step, 0.0) + (
                    time.process_time() - cpu_start
                )
                tally.preds.setdefault(step, []).extend(res.predictions)
            print(f"[{label}] items {lo}-{idx[-1]} done; load average {loadavg()}", flush=True)
        best_lm = merge_lm_eval(lm_runs)
        del lm
        results["variants"][label] = _report(label, items, best_lm, tally, adp)
        tokens = sum(len(ids) for ids in ours.tokenizer([i.question + " ".join(i.options.values())
                                                   for i in items])["input_ids"])  # fmt: skip
        for name, seconds in [("lm-eval", best_lm.seconds), *tally.seconds.items()]:
            work = score_gflop(params, tokens * (1 if name == "letter" else 2))
            print(f"  {name:<8} achieved {share(work, seconds, peak)} (2 x params x tokens)")
    results["load_average"] = {"before": load_before, "after": loadavg()}
    print(f"load average after: {results['load_average']['after']}")
    (out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"details: {out / 'results.json'}")


def _report(label: str, items: list[Any], lm: LmEvalRun, ours: OursRun, adapter: Any) -> dict:
    n = len(items)
    qps = {"lm-eval": n / lm.seconds}
    qps.update({m: n / s for m, s in ours.seconds.items()})
    qpc = {"lm-eval": n / lm.cpu_seconds}  # questions per CPU-second: steadier when shared
    qpc.update({m: n / s for m, s in ours.cpu_seconds.items()})

    def acc(preds: list[Any], pick: Any = lambda p: p.pred) -> float:
        return sum(pick(p) == p.answer for p in preds) / len(preds)

    ll = ours.preds["loglik"]
    acc_ours = {
        "loglik (per token)": acc(ll),
        "loglik sum": acc(ll, lambda p: p.extra["variants"]["sum"]),
        "loglik per char": acc(ll, lambda p: p.extra["variants"]["per_char"]),
        "letter": acc(ours.preds["letter"]),
    }
    rec = reconcile(items, lm, ll)
    print(f"== {label}" + (f" + adapter {adapter}" if adapter else ""))
    cpu = {"lm-eval": lm.cpu_seconds, **ours.cpu_seconds}
    wall = {"lm-eval": lm.seconds, **ours.seconds}

    def rate(k: str) -> str:
        return f"{qps[k]:6.2f} q/s ({wall[k]:5.1f} s wall), {qpc[k]:5.2f} q/CPU-s"

    print(
        f"  lm-eval hf   {rate('lm-eval')}  acc {lm.metrics['acc']:.1%}  "
        f"acc_norm {lm.metrics['acc_norm']:.1%}  acc_bytes {lm.metrics['acc_bytes']:.1%}"
    )
    print(
        f"  ours loglik  {rate('loglik')}  per-token {acc_ours['loglik (per token)']:.1%}  "
        f"sum {acc_ours['loglik sum']:.1%}  per-char {acc_ours['loglik per char']:.1%}"
    )
    print(f"  ours letter  {rate('letter')}  acc {acc_ours['letter']:.1%}")
    r_ll, r_letter = qps["loglik"] / qps["lm-eval"], qps["letter"] / qps["lm-eval"]
    c_ll, c_letter = qpc["loglik"] / qpc["lm-eval"], qpc["letter"] / qpc["lm-eval"]
    verdict = {True: "met", False: "MISSED"}
    print(
        f"  ratio loglik/lm-eval {r_ll:.2f}x wall, {c_ll:.2f}x CPU (goal >= 1.5x: "
        f"{verdict[r_ll >= 1.5]}); letter/lm-eval {r_letter:.2f}x wall, {c_letter:.2f}x CPU "
        f"(goal >= 3x: {verdict[r_letter >= 3]})"
    )
    c = rec["counts"]
    print(
        f"  option log-likelihoods: lm-eval = ours + c (newline term, median "
        f"{rec['newline_c_median']:.3f}); max |residual| {rec['max_abs_residual']:.2e}"
    )
    print(
        f"  items whose prediction differs (of {n}): lm-eval acc vs our sum {c['acc_vs_sum']}; "
        f"acc_norm vs our per-char {c['acc_norm_vs_per_char']} "
        f"({c['acc_norm_explained']} explained by c); our per-token loglik vs acc "
        f"{c['headline_vs_acc']}, vs acc_norm {c['headline_vs_acc_norm']} (normalisation: on "
        f"{c['headline_explained']}/{c['headline_differs']} of those items the per-token rule "
        f"applied to lm-eval's own numbers gives our pick)"
    )
    print("    id: key | lm-eval acc, acc_norm | ours per-token, sum, per-char | check")
    for row in rec["differing_items"]:
        ok = all(" NOT " not in w for w in row["why"])
        print(f"    {row['id']}: {row['key']} | {row['lm_acc']} {row['lm_acc_norm']} | "
              f"{row['ours_loglik']} {row['ours_sum']} {row['ours_per_char']} | "
              f"{'explained' if ok else '; '.join(row['why'])}")  # fmt: skip
    print()
    return {"questions_per_s": qps, "questions_per_cpu_s": qpc, "seconds": wall,
            "cpu_seconds": cpu, "ratios_cpu": {"loglik_vs_lm_eval": c_ll,
                                               "letter_vs_lm_eval": c_letter},
            "lm_eval_metrics": lm.metrics, "ours_acc": acc_ours,
            "ratios": {"loglik_vs_lm_eval": r_ll, "letter_vs_lm_eval": r_letter},
            "reconcile": rec, "adapter": str(adapter) if adapter else None,
            "per_item": {p.id: {"lm_eval_ll": lm.lls[p.id], "ours_sum": p.extra["sum"],
                                "ours_tokens": p.extra["tokens"]} for p in ll}}  # fmt: skip


if __name__ == "__main__":
    main()
