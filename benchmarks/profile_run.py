"""Where a run's seconds go, by op family: training steps and scoring, under torch.profiler.

    python benchmarks/profile_run.py --run runs/hyperhidrosis     # that run's data and adapter
    python benchmarks/profile_run.py --run runs/x --steps 20 --items 64
    python benchmarks/profile_run.py --smoke                      # tiny model, seconds

Times the frozen-layer prefix fill, then profiles ``--steps`` training steps of the run's own
configuration on its RAFT data (the adapted layers' forward and backward, the LM head, the
optimizer)
and the scoring of ``--items`` benchmark items in both cells, then prints CPU time per op family
(matmul, attention, norms and activations, casts and copies, dropout, optimizer, other) and per
phase. With the run's ``timings.json`` this splits the whole run's wall time (docs/measurements.md).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path

FAMILIES = (
    ("matmul", ("mm", "addmm", "bmm", "matmul", "linear", "baddbmm")),
    ("attention", ("scaled_dot_product", "_scaled_dot_product", "flash_attention", "softmax",
                   "_softmax")),
    ("optimizer", ("_foreach", "adam", "clip_grad", "norm_")),
    ("dropout", ("dropout", "bernoulli", "native_dropout")),
    ("casts/copies", ("copy_", "to", "_to_copy", "clone", "contiguous", "cat", "stack", "pad",
                      "index", "gather", "select", "slice", "expand", "fill_", "zero_", "empty")),
    ("norm/activation/elementwise", ("mul", "add", "silu", "rsqrt", "pow", "mean", "neg", "sub",
                                     "div", "exp", "log", "sum", "where", "sigmoid", "cos", "sin",
                                     "embedding")),
)


def family(name: str) -> str:
    """``aten::addmm`` -> ``matmul``: the op family of one aten op name."""
    op = name.removeprefix("aten::").rstrip("_")
    for fam, keys in FAMILIES:
        if op in keys or any(len(k) > 3 and op.startswith(k) for k in keys):
            return fam
    return "other"


def families(prof) -> dict[str, float]:
    """Self CPU seconds per op family (top-level aten ops only: no double counting)."""
    out: dict[str, float] = defaultdict(float)
    for ev in prof.key_averages():
        if ev.key.startswith("aten::"):
            out[family(ev.key)] += ev.self_cpu_time_total / 1e6
    return dict(out)


def phases(prof, names) -> dict[str, float]:
    """Wall seconds inside each ``record_function`` range."""
    return {ev.key: ev.cpu_time_total / 1e6 for ev in prof.key_averages() if ev.key in names}


def profile_training(run: Path, steps: int) -> dict:
    from torch.profiler import ProfilerActivity, profile, record_function

    from raresupport.config import RunConfig
    from raresupport.diseases import load_disease
    from raresupport.train import lora

    cfg = RunConfig.model_validate(json.loads((run / "run_config.json").read_text()))
    train = cfg.train.model_copy(update={
        "max_steps": steps, "save_every_steps": 10_000,
        "system_prompt": cfg.train.system_prompt or load_disease(cfg.disease).spec.system_prompt})
    work = Path(tempfile.mkdtemp(prefix="profile-"))
    from raresupport.train.loop import run_steps

    trun, _ = lora._setup(cfg.model, run / "raft", work, train)  # the prefix fill is timed here
    state, _ = lora.restore(trun, False)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        with record_function("steps"):
            run_steps(trun, state, False, None)
    return {"families": families(prof), "phases": phases(prof, {"steps"}),
            "prefix_seconds": trun.prefix_seconds, "steps": steps}


def profile_scoring(run: Path, items: int) -> dict:
    from torch.profiler import ProfilerActivity, profile, record_function

    from raresupport.data import load_benchmark
    from raresupport.diseases import load_disease
    from raresupport.evaluate.as_run import evaluate_cells

    settings = json.loads((run / "eval" / "settings.json").read_text())
    disease = load_disease(settings["disease"])
    work = Path(tempfile.mkdtemp(prefix="profile-score-"))
    bench = work / "benchmark.jsonl"
    rows = load_benchmark(disease.benchmark_path)[:items]
    bench.write_text("".join(json.dumps(r.model_dump(mode="json")) + "\n" for r in rows))
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        with record_function("score"):
            evaluate_cells(settings, disease.spec, run / "adapter", [bench],
                           {"plain": work / "p", "notes": work / "n"})  # fmt: skip
    return {"families": families(prof), "phases": phases(prof, {"score"}), "items": items}


def _table(title: str, fams: dict[str, float]) -> str:
    total = sum(fams.values()) or 1.0
    lines = [f"{title}: {total:.1f} s self CPU in aten ops"]
    for fam, sec in sorted(fams.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {fam:30s} {sec:8.1f} s  {100 * sec / total:5.1f} %")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, help="a finished `raresupport run` folder")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--items", type=int, default=64)
    ap.add_argument("--smoke", action="store_true", help="tiny model run, 2 steps: seconds")
    args = ap.parse_args(argv)
    import torch
    from _common import machine_line

    if args.smoke:
        from _common import smoke_model

        from raresupport.config import EvalConfig, GenerateConfig, RunConfig
        from raresupport.pipeline import run_pipeline
        from raresupport.safety.config import SafetyConfig
        from raresupport.train.config import TrainConfig

        work = Path(tempfile.mkdtemp(prefix="profile-smoke-"))
        args.run, args.steps, args.items = work / "run", 2, 8
        cfg = RunConfig(disease="hyperhidrosis", model=str(smoke_model(work)),
                        generate=GenerateConfig(n=24), evaluate=EvalConfig(batch_size=16),
                        train=TrainConfig(max_steps=2, batch_size=4, max_length=256, top_layers=1),
                        safety=SafetyConfig(enabled=False))  # fmt: skip
        run_pipeline(cfg, args.run, log=lambda m: None)
    print(machine_line(torch.get_num_threads())[0], flush=True)
    timings = json.loads((args.run / "timings.json").read_text())
    print("run step times (s):", json.dumps(timings))
    train = profile_training(args.run, args.steps)
    print(_table(f"training, {args.steps} steps (prefix fill {train['prefix_seconds']:.1f} s, "
                 f"phases {json.dumps({k: round(v, 1) for k, v in train['phases'].items()})})",
                 train["families"]))  # fmt: skip
    score = profile_scoring(args.run, args.items)
    print(_table(f"scoring {args.items} items x 2 cells, tuned "
                 f"({score['phases'].get('score', 0):.1f} s wall)", score["families"]))


if __name__ == "__main__":
    main()
