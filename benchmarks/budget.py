"""The training budget against its cost: generated-validation accuracy vs training CPU-seconds.

    python benchmarks/budget.py --run runs/hyperhidrosis           # the grid below, on that run
    python benchmarks/budget.py --run runs/x --grid '[{"n": 600, "epochs": 1.5}]'
    python benchmarks/budget.py --smoke                            # tiny model, seconds

Each configuration trains on a seeded sample of ``n`` of a finished run's RAFT training items
(the run's own notes) with its training settings changed as given (``n``, ``epochs``,
``top_layers``, ``include_rationale``), and is scored exactly as the run scores (its prompt,
notes, routing, ``loglik`` per character; :func:`raresupport.evaluate.as_run.evaluate_cells`)
on generated validation items only: the run's ``val.jsonl`` plus ``--extra-val`` fresh items
the offline generator writes with another seed, avoiding the training items, and the people
split (``val_people.jsonl``: patient-voiced questions and clinician vignettes with reworded
options, the split settings are chosen on). The shipped
benchmark is not scored here: defaults are chosen on generated data, never on it. The
out-of-domain control is scored too (forgetting). A configuration equal to the run's own
(``{}``) reuses the run's adapter and its recorded training time.

Prints one JSON line per configuration (appended to ``--results``) and the machine line;
``--plot`` draws accuracy against training CPU-seconds.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

#: vignettes x epochs x LoRA depth x target, around the defaults (docs/training.md)
GRID = [
    {},
    {"epochs": 1.5},
    {"n": 600},
    {"top_layers": 4},
    {"include_rationale": False},
    {"n": 600, "epochs": 1.5, "top_layers": 4},
]


def _val_file(run: Path, extra: int, work: Path) -> Path:
    """The run's val split plus ``extra`` freshly generated items, as an interchange JSONL."""
    from raresupport.config import RunConfig
    from raresupport.data import load_vignettes
    from raresupport.diseases import load_disease
    from raresupport.generate import get_generator
    from raresupport.generate.dataset import generate_dataset

    path = work / "val.jsonl"
    if path.exists():
        return path
    cfg = RunConfig.model_validate(json.loads((run / "run_config.json").read_text()))
    items = [v.to_mcq() for v in load_vignettes(run / "data" / "val.jsonl")]
    if extra:
        more = work / "extra"
        generate_dataset(load_disease(cfg.disease), get_generator("grounded"), extra, more,
                         seed=cfg.generate.seed + 1, val_fraction=0.0,
                         avoid=[run / "data" / "train.jsonl", run / "data" / "val.jsonl"])
        items += [v.to_mcq() for v in load_vignettes(more / "train.jsonl")]
    path.write_text("".join(json.dumps(i.model_dump(mode="json")) + "\n" for i in items))
    return path


def _people_file(run: Path, work: Path) -> Path:
    """The run's people split (``data/val_people.jsonl``), written here for older runs."""
    from raresupport.config import RunConfig
    from raresupport.data.jsonl import write_jsonl
    from raresupport.diseases import load_disease
    from raresupport.generate.grounded.people import people_items

    if (run / "data" / "val_people.jsonl").is_file():
        return run / "data" / "val_people.jsonl"
    path = work / "val_people.jsonl"
    if not path.exists():
        cfg = RunConfig.model_validate(json.loads((run / "run_config.json").read_text()))
        spec = load_disease(cfg.disease).spec
        write_jsonl(path, people_items(spec, cfg.generate.people_val, cfg.generate.seed)[0])
    return path


def _sample(run: Path, n: int | None, seed: int, work: Path) -> Path:
    """A folder whose train.jsonl holds ``n`` of the run's RAFT items (all when None)."""
    lines = (run / "raft" / "train.jsonl").read_text().splitlines()
    if n is None or n >= len(lines):
        return run / "raft"
    folder = work / f"train-{n}"
    folder.mkdir(parents=True, exist_ok=True)
    pick = sorted(random.Random(seed).sample(range(len(lines)), n))
    (folder / "train.jsonl").write_text("".join(lines[i] + "\n" for i in pick))
    return folder


def measure(run: Path, change: dict, val: Path, work: Path, people: Path | None = None) -> dict:
    """Train one configuration (unless it is the run's own) and score it on ``val``, the
    people split and OOD."""
    from raresupport.config import RunConfig
    from raresupport.diseases import load_disease
    from raresupport.evaluate.as_run import evaluate_cells
    from raresupport.train.lora import train_lora

    cfg = RunConfig.model_validate(json.loads((run / "run_config.json").read_text()))
    disease = load_disease(cfg.disease)
    settings = json.loads((run / "eval" / "settings.json").read_text())
    settings = {**settings, "methods": ["loglik"], "headline": "loglik"}
    name = "-".join(f"{k}={v}" for k, v in sorted(change.items())) or "run"
    out = work / name
    if change:
        train = cfg.train.model_copy(update={
            k: v for k, v in change.items() if k != "n"} | {
            "system_prompt": cfg.train.system_prompt or disease.spec.system_prompt})
        data = _sample(run, change.get("n"), cfg.train.seed, work)
        cpu0, t0 = time.process_time(), time.perf_counter()
        adapter = train_lora(cfg.model, data, out / "adapter", train, resume=True, progress=False)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
        summary = json.loads((adapter / "train_summary.json").read_text())
    else:
        adapter = run / "adapter"
        summary = json.loads((adapter / "train_summary.json").read_text())
        cpu, wall = None, summary["wall_seconds"]
    benches = [p for p in (val, people, disease.ood_path) if p]
    cells = evaluate_cells(settings, disease.spec, adapter, benches,
                           {"plain": out / "tuned", "notes": out / "tuned+notes"})  # fmt: skip
    row = {"config": name, "change": change, "train_cpu_s": cpu and round(cpu, 1),
           "train_wall_s": round(wall, 1), "steps": summary["steps"],
           "tokens": summary["tokens"], "final_loss": summary["final_loss"]}  # fmt: skip
    for cell, metrics in cells.items():
        for bench, block in metrics["benchmarks"].items():
            row[f"{bench}.{cell}"] = round(block["by_method"]["loglik"]["overall"], 4)
            row[f"{bench}.{cell}.n"] = block["n"]
    return row


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    series = [("val.notes", "C0", "o", "template val, tuned + notes"),
              ("val.plain", "C1", "x", "template val, tuned"),
              ("val_people.notes", "C2", "s", "people split, tuned + notes"),
              ("val_people.plain", "C3", "+", "people split, tuned")]  # fmt: skip
    for key, color, marker, label in series:
        pts = [(r["train_cpu_s"] or r["train_wall_s"] * 2, r[key]) for r in rows if key in r]
        if pts:
            ax.scatter(*zip(*pts, strict=True), color=color, marker=marker, label=label)
    for row in rows:
        x = row["train_cpu_s"] or row["train_wall_s"] * 2
        ax.annotate(row["config"], (x, row.get("val_people.notes", row["val.notes"])), fontsize=7)
    ax.set_xlabel("training CPU-seconds")
    ax.set_ylabel("generated-val accuracy (loglik per char)")
    ax.legend(loc="center right", fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, help="a finished `raresupport run` folder")
    ap.add_argument("--grid", default=None, help="JSON list of changes; default: GRID")
    ap.add_argument("--extra-val", type=int, default=200, help="fresh generated val items")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--results", type=Path, default=None, help="default: WORK/results.jsonl")
    ap.add_argument("--plot", type=Path, default=None, help="PNG of accuracy vs CPU-seconds")
    ap.add_argument("--smoke", action="store_true", help="tiny model run, two configs: seconds")
    args = ap.parse_args(argv)
    import torch
    from _common import machine_line

    grid = json.loads(args.grid) if args.grid else GRID
    work = args.work or Path(tempfile.mkdtemp(prefix="budget-"))
    if args.smoke:
        from _common import smoke_model

        from raresupport.config import EvalConfig, GenerateConfig, RunConfig
        from raresupport.pipeline import run_pipeline
        from raresupport.safety.config import SafetyConfig
        from raresupport.train.config import TrainConfig

        args.run = work / "run"
        cfg = RunConfig(disease="hyperhidrosis", model=str(smoke_model(work)),
                        generate=GenerateConfig(n=24, people_val=12),
                        evaluate=EvalConfig(batch_size=16),
                        train=TrainConfig(max_steps=2, batch_size=4, max_length=256),
                        safety=SafetyConfig(enabled=False))  # fmt: skip
        run_pipeline(cfg, args.run, log=lambda m: None)
        grid, args.extra_val = [{}, {"n": 12, "top_layers": 1}], 8
    print(machine_line(torch.get_num_threads())[0], flush=True)
    val = _val_file(args.run, args.extra_val, work)
    people = _people_file(args.run, work)
    results = args.results or work / "results.jsonl"
    rows = []
    for change in grid:
        row = measure(args.run, change, val, work, people)
        rows.append(row)
        print(json.dumps(row), flush=True)
        with results.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
