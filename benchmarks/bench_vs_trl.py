"""Our LoRA trainer vs TRL's SFTTrainer on the same model, data and settings (on demand).

    python benchmarks/bench_vs_trl.py --steps 30 --batch-size 8 --max-length 320
    python benchmarks/bench_vs_trl.py --smoke      # tiny model, seconds (the test suite runs it)

Needs trl installed (the ``dev`` extra has it). Both trainers get:
the same model (SmolLM2-135M, float32 weights), the same vignettes (``raresupport generate
hyperhidrosis --n 180``), as our trainer's own tokenised examples handed to TRL pre-tokenised
(``input_ids`` + ``completion_mask``) so both train the same tokens with the same loss mask; the
same LoRA, built by the library's ``train.model.lora_config`` from the library's run defaults
(``RunConfig().train``: r, alpha, dropout, "all-linear", top layers); the same optimiser
(AdamW, lr, cosine schedule, warm-up, clipping), batch size,
sequence length, steps, seed, mixed precision, and no gradient checkpointing (TRL's default is
on; ``--trl-gradient-checkpointing`` keeps it). Each trainer runs in its own child process so
its peak RSS is its own. Prints tokens/s (real tokens, padding excluded, over the optimizer
steps only), peak RSS, padding share and both loss curves.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    backward_share,
    machine_line,
    param_count,
    share,
    smoke_model,
    train_gflop,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def peak_rss_mib() -> float:
    """This process's peak resident set size (MiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def rss_mib() -> float:
    """This process's current resident set size (MiB), from /proc (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Marks:
    """Per-step (wall, CPU time, cumulative real tokens, loss), taken right after each step.

    Throughput is measured from the end of step 1 to the end of the last step for both trainers,
    so start-up work (first-call allocations, TRL's dataloader set-up) is excluded on both sides.
    CPU time is the process's user+system time: on a shared machine it is the steadier figure.
    """

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []

    def mark(self, tokens: int, loss: float) -> None:
        self.rows.append({"wall": time.perf_counter(), "cpu": time.process_time(),
                          "tokens": tokens, "loss": loss})  # fmt: skip

    def summary(self) -> dict[str, Any]:
        first, last = self.rows[0], self.rows[-1]
        return {
            "steps": len(self.rows), "losses": [r["loss"] for r in self.rows],
            "tokens": last["tokens"] - first["tokens"], "seconds": last["wall"] - first["wall"],
            "cpu_seconds": last["cpu"] - first["cpu"], "tokens_all_steps": last["tokens"],
        }  # fmt: skip


def train_config(args: argparse.Namespace) -> Any:
    """What ``raresupport run`` trains with (the library's own config), with this run's sizes.

    LoRA settings (r, alpha, dropout, target modules, top layers), optimiser and prompt styles
    all come from the library, so the comparison follows its defaults when they change.
    """
    from raresupport.config import RunConfig

    update = {"max_steps": args.steps, "batch_size": args.batch_size, "seed": args.seed,
              "max_length": args.max_length, "save_every_steps": 10**6}  # fmt: skip
    if args.lr is not None:
        update["lr"] = args.lr
    return RunConfig(disease="hyperhidrosis").train.model_copy(update=update)


# --------------------------------------------------------------------------- workers


def heldout_loss(model: Any, args: argparse.Namespace, batch_size: int = 8) -> dict[str, float]:
    """Mean answer-token cross-entropy on the dataset's val split (all, and per prompt style).

    fp32, dropout off.

    Both trainers' adapters are judged by this one function on the same examples: the two runs
    draw different random batches, so their per-step training losses are noisy to compare.
    """
    import torch

    from raresupport.tokens import IGNORE_INDEX, collate

    cfg = train_config(args)
    examples = _examples(args, cfg, split="val.jsonl")
    was_training = model.training
    model.eval()
    sums: dict[str, list[float]] = {}
    with torch.inference_mode():
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            batch = collate(chunk, 0)
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                           use_cache=False).logits.float()  # fmt: skip
            targets = batch["labels"][:, 1:]
            keep = targets != IGNORE_INDEX
            ce = torch.nn.functional.cross_entropy(
                logits[:, :-1].transpose(1, 2), targets.clamp(min=0), reduction="none"
            )
            for row, e in enumerate(chunk):
                for key in ("all", e.style):
                    acc = sums.setdefault(key, [0.0, 0.0])
                    acc[0] += float(ce[row][keep[row]].sum())
                    acc[1] += float(keep[row].sum())
    model.train(was_training)
    return {k: total / max(n, 1.0) for k, (total, n) in sums.items()}


def worker_ours(args: argparse.Namespace) -> dict[str, Any]:
    """Train with ``train_lora``; per-step marks from its ``on_step`` callback.

    ``collate`` is wrapped to record each micro-batch's real and padded token counts.
    """
    from raresupport.models.load import load_model
    from raresupport.train import loop as train_loop
    from raresupport.train.lora import SUMMARY_FILE, train_lora

    cfg = train_config(args)
    out = args.work / "ours"
    marks, batches, step_ends = Marks(), [], []
    collate = train_loop.collate

    def recording_collate(examples: Any, pad_id: int) -> dict[str, Any]:
        batch = collate(examples, pad_id)
        batches.append((int(batch["attention_mask"].sum()), batch["input_ids"].numel()))
        return batch

    def on_step(record: dict[str, Any]) -> None:
        marks.mark(record["tokens"], record["loss"])
        step_ends.append(len(batches))

    train_loop.collate = recording_collate
    try:
        train_lora(args.model, args.data, out, cfg, resume=False, progress=False,
                        on_step=on_step)  # fmt: skip
    finally:
        train_loop.collate = collate
    peak_train = peak_rss_mib()  # before the held-out pass below loads a second model
    summary = json.loads((out / SUMMARY_FILE).read_text(encoding="utf-8"))
    steps_2_n = batches[step_ends[0] : step_ends[-1]]
    real, padded = sum(r for r, _ in steps_2_n), sum(p for _, p in steps_2_n)
    return {
        **marks.summary(), "mixed_precision": summary["mixed_precision"],
        "answer_only_head": summary["answer_only_head"],
        "padding_share": 1 - real / padded if padded else None,
        "micro_batches_per_step": len(steps_2_n) / max(1, len(step_ends) - 1),
        "adapter": str(out), "peak_rss_mib": peak_train,
        "heldout_loss": heldout_loss(load_model(args.model, adapter=out)[0], args),
    }  # fmt: skip


def _examples(args: argparse.Namespace, cfg: Any, split: str = "train.jsonl") -> list[Any]:
    """Our tokenised examples of one split (the trainer's own formatting code)."""
    from raresupport.models.load import load_tokenizer, resolve_model
    from raresupport.train.data import read_training_data
    from raresupport.train.format import build_examples

    tok = load_tokenizer(resolve_model(args.model))
    examples, _ = build_examples(
        tok, read_training_data(args.data / split), styles=cfg.styles, max_length=cfg.max_length,
        include_rationale=cfg.include_rationale, system_prompt=cfg.system_prompt,
    )  # fmt: skip
    return examples


def tokenised_rows(args: argparse.Namespace) -> list[dict[str, list[int]]]:
    """Our trainer's own tokenised examples, handed to TRL pre-tokenised (``input_ids`` +
    ``completion_mask``): both trainers see the same tokens and the same loss mask whatever the
    prompt renderer does (notes, system prompt, template quirks)."""
    cfg = train_config(args)
    return [{"input_ids": list(e.input_ids), "completion_mask": [int(x != -100) for x in e.labels]}
            for e in _examples(args, cfg)]  # fmt: skip


def worker_trl(args: argparse.Namespace) -> dict[str, Any]:
    """Train with TRL's SFTTrainer + peft_config on prompt/completion rows."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from raresupport.models.load import load_tokenizer, resolve_model
    from raresupport.train.model import lora_config

    cfg = train_config(args)
    path = resolve_model(args.model)
    tokenizer = load_tokenizer(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    dataset = Dataset.from_list(tokenised_rows(args))
    precision = args.precision if args.precision != "auto" else _auto_precision()
    sft = SFTConfig(
        output_dir=str(args.work / "trl"), max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size, gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.lr, lr_scheduler_type="cosine",
        warmup_steps=math.ceil(cfg.warmup_ratio * cfg.max_steps), weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm, optim="adamw_torch", seed=cfg.seed,
        max_length=cfg.max_length, completion_only_loss=True, packing=False,
        gradient_checkpointing=args.trl_gradient_checkpointing,
        bf16=precision == "bf16", fp16=precision == "fp16", use_cpu=not torch.cuda.is_available(),
        logging_steps=1, save_strategy="no", report_to="none", disable_tqdm=True,
        dataloader_num_workers=0,
    )  # fmt: skip
    lora = lora_config(model, cfg)  # exactly what our trainer hands peft
    trainer = SFTTrainer(
        model=model, args=sft, train_dataset=dataset, processing_class=tokenizer,
        peft_config=lora,
    )  # fmt: skip
    same_tokens = _same_tokens_as_ours(args, cfg, trainer.train_dataset)
    batches: list[tuple[int, int]] = []
    collate = trainer.data_collator

    def recording_collator(features: list[dict[str, Any]]) -> dict[str, Any]:
        batch = collate(features)
        batches.append((int(batch["attention_mask"].sum()), batch["input_ids"].numel()))
        return batch

    trainer.data_collator = recording_collator

    marks = Marks()

    class Clock(TrainerCallback):
        """A mark at each step's log (logging_steps=1: right after every optimizer step)."""

        def on_log(self, _args: Any, state: Any, control: Any, logs: Any = None, **k: Any):
            if logs and "loss" in logs and "num_tokens" in logs:
                marks.mark(int(float(logs["num_tokens"])), float(logs["loss"]))

    trainer.add_callback(Clock())
    rss_before = rss_mib()
    trainer.train()
    peak_train = peak_rss_mib()
    steps_2_n = batches[1 : cfg.max_steps]  # the loader may have fetched one batch ahead
    real, padded = sum(r for r, _ in steps_2_n), sum(p for _, p in steps_2_n)
    return {
        **marks.summary(), "mixed_precision": precision,
        "padding_share": 1 - real / padded if padded else None,
        "rss_before_train_mib": rss_before, "same_tokens_as_ours": same_tokens,
        "gradient_checkpointing": args.trl_gradient_checkpointing, "peak_rss_mib": peak_train,
        "heldout_loss": heldout_loss(trainer.model, args),
    }  # fmt: skip


def _auto_precision() -> str:
    """What our trainer's ``mixed_precision="auto"`` picks here (bf16 on fast-bf16 hardware)."""
    import torch

    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    from raresupport.models.precision import cpu_has_fast_bf16

    return "bf16" if cpu_has_fast_bf16() else "no"


def _same_tokens_as_ours(args: argparse.Namespace, cfg: Any, dataset: Any) -> dict[str, int]:
    """How many of TRL's tokenised examples equal ours (ids and loss mask) - fairness check."""
    ours = {tuple(e.input_ids): [x != -100 for x in e.labels] for e in _examples(args, cfg)}
    same = 0
    for row in dataset:
        ids = tuple(row["input_ids"])
        mask = row.get("completion_mask")
        if mask is None and "labels" in row:
            mask = [x != -100 for x in row["labels"]]
        if ids in ours and [bool(x) for x in mask] == ours[ids]:
            same += 1
    return {"same": same, "trl": len(dataset), "ours": len(ours)}


# --------------------------------------------------------------------------- driver


def run_worker(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one trainer in a child process; returns its result with its peak RSS."""
    result_file = args.work / f"result-{kind}.json"
    cmd = [sys.executable, __file__, "--worker", kind, "--data", str(args.data),
           "--work", str(args.work), "--model", args.model, "--steps", str(args.steps),
           "--batch-size", str(args.batch_size), "--max-length", str(args.max_length),
           "--seed", str(args.seed), "--threads", str(args.threads)]  # fmt: skip
    if args.lr is not None:
        cmd += ["--lr", str(args.lr)]
    if args.trl_gradient_checkpointing:
        cmd.append("--trl-gradient-checkpointing")
    if kind == "trl":
        cmd += ["--precision", args.precision]
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    result = json.loads(result_file.read_text(encoding="utf-8"))
    result["wall_seconds_incl_load"] = time.perf_counter() - started
    return result


def make_data(args: argparse.Namespace) -> Path:
    """``raresupport generate hyperhidrosis --n N --out DIR`` (offline grounded generator)."""
    data = args.work / "data"
    if not (data / "train.jsonl").is_file():
        cmd = [sys.executable, "-m", "raresupport", "generate", "hyperhidrosis",
               "--n", str(args.n), "--out", str(data)]  # fmt: skip
        subprocess.run(cmd, check=True)
    return data


def tail_mean(xs: list[float], k: int = 10) -> float:
    tail = xs[-k:]
    return sum(tail) / len(tail) if tail else float("nan")


def by_style(losses: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in losses.items() if k != "all")


def report(ours: dict[str, Any], trl: dict[str, Any], args: argparse.Namespace) -> dict:
    pairs = (("ours", ours), ("trl", trl))
    tps = {k: r["tokens"] / r["seconds"] for k, r in pairs}
    tpcpu = {k: r["tokens"] / r["cpu_seconds"] for k, r in pairs}
    final = {"ours": tail_mean(ours["losses"]), "trl": tail_mean(trl["losses"])}
    heldout = {"ours": ours["heldout_loss"]["all"], "trl": trl["heldout_loss"]["all"]}
    speed, speed_cpu = tps["ours"] / tps["trl"], tpcpu["ours"] / tpcpu["trl"]
    cfg = train_config(args)
    loss_gap = abs(heldout["ours"] - heldout["trl"]) / heldout["trl"]
    mem = ours["peak_rss_mib"] <= trl["peak_rss_mib"]
    print(f"\nsteps {args.steps}, batch {args.batch_size}, max_length {args.max_length}, "
          f"lr {cfg.lr}, LoRA r {cfg.r} on {cfg.target_modules!r} top_layers {cfg.top_layers}, "
          f"styles {','.join(cfg.styles)}, "
          f"mixed precision {ours['mixed_precision']}/{trl['mixed_precision']}, "
          f"torch threads {ours['threads']}/{trl['threads']}, "
          f"TRL gradient checkpointing {trl['gradient_checkpointing']}")  # fmt: skip
    st = trl["same_tokens_as_ours"]
    print(f"TRL tokenisation equals ours (ids + loss mask) on {st['same']}/{st['trl']} examples")
    print("throughput over steps 2..N (real tokens, padding excluded):")
    for k, r in pairs:
        print(f"  {k:<5} {tps[k]:7.0f} tokens/s wall, {tpcpu[k]:7.0f} tokens/CPU-s  "
              f"({r['tokens']} tokens, {r['seconds']:.1f} s wall, {r['cpu_seconds']:.1f} s CPU)  "
              f"padding {r['padding_share']:.1%}  peak RSS {r['peak_rss_mib']:.0f} MiB  "
              f"held-out loss {heldout[k]:.4f} ({by_style(r['heldout_loss'])})  "
              f"train loss (mean last 10) {final[k]:.4f}  "
              f"wall incl. load {r['wall_seconds_incl_load']:.0f} s")  # fmt: skip
        gflop = train_gflop(args.params, r["tokens"], backward_share(args.model, cfg.top_layers))
        prec = r["mixed_precision"]
        print(f"        wall: {share(gflop, r['seconds'], args.peak, prec)}; per CPU-s: "
              f"{share(gflop, r['cpu_seconds'], args.peak, prec)} "
              f"(2PT forward + 2PT x adapted share backward)")
    verdict = {True: "met", False: "MISSED"}
    print(f"ratio tokens/s ours/TRL {speed:.2f}x wall, {speed_cpu:.2f}x CPU "
          f"(goal >= 1.3x: {verdict[speed >= 1.3]}); "
          f"held-out loss gap {loss_gap:.1%} (goal <= 5%: {verdict[loss_gap <= 0.05]}); "
          f"peak RSS ours {'<=' if mem else '>'} TRL ({verdict[mem]})")  # fmt: skip
    print("loss curves (step: ours / TRL):")
    n = max(len(ours["losses"]), len(trl["losses"]))
    for i in range(n):
        a = ours["losses"][i] if i < len(ours["losses"]) else float("nan")
        b = trl["losses"][i] if i < len(trl["losses"]) else float("nan")
        print(f"  {i + 1:>3}: {a:.4f} / {b:.4f}")
    return {"tokens_per_s": tps, "tokens_per_cpu_s": tpcpu, "final_loss": final,
            "heldout_loss": heldout, "speed_ratio": speed, "speed_ratio_cpu": speed_cpu,
            "loss_gap": loss_gap, "memory_ok": mem, "ours": ours, "trl": trl}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--data", type=Path, default=None, help="dataset folder (default: generate)")
    ap.add_argument("--n", type=int, default=180, help="vignettes to generate")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-length", type=int, default=320)
    ap.add_argument("--lr", type=float, default=None, help="default: the library's TrainConfig")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=None, help="folder for data, runs, results")
    ap.add_argument("--only", choices=("ours", "trl"), default=None)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    ap.add_argument("--trl-gradient-checkpointing", action="store_true")
    ap.add_argument(
        "--precision",
        choices=("auto", "bf16", "fp16", "no"),
        default="auto",
        help="TRL's mixed precision (auto: whatever our trainer used)",
    )
    ap.add_argument("--smoke", action="store_true",
                    help="seconds-long end-to-end check on a tiny model (what the test suite runs)")
    ap.add_argument("--worker", choices=("ours", "trl"), default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.work = args.work or Path(tempfile.mkdtemp(prefix="bench-trl-"))
    args.work.mkdir(parents=True, exist_ok=True)
    if args.smoke and not args.worker:
        args.model = str(smoke_model(args.work))
        args.n, args.steps, args.batch_size, args.max_length = 24, 3, 4, 192

    if args.worker:
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        result = (worker_ours if args.worker == "ours" else worker_trl)(args)
        result["threads"] = torch_threads()
        out = args.work / f"result-{args.worker}.json"
        out.write_text(json.dumps(result, indent=2), encoding="utf-8")
        return

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    args.data = args.data or make_data(args)
    line, args.peak = machine_line(torch.get_num_threads())
    args.params = param_count(args.model)
    print(f"{line}; torch {torch.__version__}")
    kinds = [args.only] if args.only else ["ours", "trl"]
    results: dict[str, Any] = {}
    for kind in kinds:
        results[kind] = run_worker(kind, args)
        if kind == "ours" and args.precision == "auto":  # TRL gets exactly what ours used
            args.precision = results[kind]["mixed_precision"]
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if len(results) == 2:
        summary = report(results["ours"], results["trl"], args)
        summary["load_average_after"] = os.getloadavg()
        (args.work / "results.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    else:
        print(json.dumps(results, indent=2))
    print(f"details: {args.work}")


if __name__ == "__main__":
    main()
