"""``raresupport run``: generate -> validate -> train -> evaluate baseline and tuned -> report.

Each step leaves a marker file; a re-run skips finished steps and training resumes from its
last checkpoint, so an interrupted run costs only the step it was in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from raresupport.config import RunConfig
from raresupport.errors import RareSupportError


class RunFolderError(RareSupportError):
    """The output folder holds a run made with a different configuration."""


def _check_config(
    out: Path, config: Any, name: str = "run_config.json", what: str = "run"
) -> None:
    """Save the config before any work; refuse to resume a folder under another config.

    Shared by ``run`` and ``loop`` (``name="loop_config.json", what="loop"``).

    Raises:
        RunFolderError: ``out`` holds a ``name`` that differs from ``config``.
    """
    path = out / name
    new = config.model_dump(mode="json")
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old != new:
            changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            raise RunFolderError(
                f"{path}: this folder holds a {what} with a different configuration "
                f"(differs in: {', '.join(changed)}); use another --out or the same options"
            )
        return
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(new, indent=2), encoding="utf-8")


def _step(
    name: str, done: Path, fn: Callable[[], Any], log: Callable[[str], None], timings: dict
) -> None:
    if done.exists():
        log(f"[skip] {name}: already done ({done})")
        return
    log(f"[run ] {name} ...")
    t0 = time.perf_counter()
    fn()
    timings[name] = round(time.perf_counter() - t0, 1)
    log(f"[done] {name} in {timings[name]:.1f}s")


def _evaluate(config: RunConfig, spec: Any, adapter: Path | None, benches: list[Path],
              out: Path) -> None:
    """One model in two cells (without / with notes); see ``evaluate/as_run.py``."""
    from raresupport.evaluate.as_run import SETTINGS_FILE, eval_settings, evaluate_cells

    settings = eval_settings(config, spec)
    (out.parent / SETTINGS_FILE).parent.mkdir(parents=True, exist_ok=True)
    (out.parent / SETTINGS_FILE).write_text(json.dumps(settings, indent=2), encoding="utf-8")
    evaluate_cells(settings, spec, adapter, benches,
                   {"plain": out, "notes": out.with_name(out.name + "+notes")})  # fmt: skip


def _raft(config: RunConfig, spec: Any, data_dir: Path, raft_dir: Path) -> None:
    """Training items with the notes the run's retriever returns for them (RAFT shares)."""
    from raresupport.retrieve import load_retriever
    from raresupport.retrieve.notes import write_raft_dataset

    rcfg = config.retrieval
    retriever = load_retriever(spec, rcfg.retriever, **rcfg.options())
    write_raft_dataset(data_dir, raft_dir, retriever, rcfg, seed=config.train.seed)


def run_pipeline(
    config: RunConfig, out_dir: str | Path, *, log: Callable[[str], None] = print
) -> dict[str, Path]:
    """Run (or resume) the whole pipeline into ``out_dir``; return the report's paths."""
    from raresupport.diseases import load_disease
    from raresupport.evaluate.report import load_metrics, write_report
    from raresupport.generate import get_generator
    from raresupport.generate.dataset import generate_dataset, shortfall
    from raresupport.safety.report import safety_blocks
    from raresupport.safety.run import load_safety, safety_steps
    from raresupport.train.lora import train_lora

    out = Path(out_dir)
    disease = load_disease(config.disease)  # fail on a bad spec before writing anything
    _check_config(out, config)
    spec = disease.spec
    timings_path = out / "timings.json"
    timings: dict[str, float] = (
        json.loads(timings_path.read_text()) if timings_path.exists() else {}
    )
    data_dir, adapter_dir = out / "data", out / "adapter"
    gen_cfg = config.generate

    def generate() -> None:
        teacher = gen_cfg.teacher
        if teacher is not None and teacher.cache_dir is None:
            teacher = teacher.model_copy(update={"cache_dir": data_dir / ".cache" / "teacher"})
        generator = (
            get_generator("openai", config=teacher) if teacher else get_generator("grounded")
        )
        manifest = generate_dataset(
            disease, generator, gen_cfg.n, data_dir, seed=gen_cfg.seed, avoid=gen_cfg.avoid,
            val_fraction=gen_cfg.val_fraction,
        )  # fmt: skip
        if (short := shortfall(manifest)) is not None:
            log(f"warning: {short}")

    train_cfg = config.train
    if train_cfg.system_prompt is None:
        train_cfg = train_cfg.model_copy(update={"system_prompt": spec.system_prompt})
    benches = [p for p in (disease.benchmark_path, disease.ood_path) if p is not None]
    benches += config.evaluate.extra_benchmarks
    if not benches:
        raise RunFolderError(f"{disease.root}: disease has no benchmark.jsonl to evaluate on")
    raft_dir = out / "raft"
    train_data = raft_dir if config.retrieval.k > 0 else data_dir
    steps = [
        ("generate", data_dir / "manifest.json", generate),
        ("retrieve", raft_dir / "retrieval.json", lambda: _raft(config, spec, data_dir, raft_dir)),
        ("train", adapter_dir / "train_summary.json",
         lambda: train_lora(config.model, train_data, adapter_dir, train_cfg, resume=True)),
        ("evaluate baseline", out / "eval" / "baseline" / "metrics.json",
         lambda: _evaluate(config, spec, None, benches, out / "eval" / "baseline")),
        ("evaluate tuned", out / "eval" / "tuned" / "metrics.json",
         lambda: _evaluate(config, spec, adapter_dir, benches, out / "eval" / "tuned")),
    ]  # fmt: skip
    if config.retrieval.k <= 0:
        steps.pop(1)
    steps += safety_steps(config, disease, out)
    for name, done, fn in steps:
        _step(name, done, fn, log, timings)
        timings_path.write_text(json.dumps(timings, indent=2), encoding="utf-8")
    baseline = load_metrics(out / "eval" / "baseline" / "metrics.json")
    tuned = load_metrics(out / "eval" / "tuned" / "metrics.json")
    cells = {f"{side}+notes": load_metrics(out / "eval" / f"{side}+notes" / "metrics.json")
             for side in ("baseline", "tuned") if config.retrieval.k > 0}  # fmt: skip
    safety = [load_safety(out / "eval" / label) for label in ("baseline", "tuned")]
    extra = {"disease": spec.id, "model": config.model, "timings_s": timings,
             "dataset": json.loads((data_dir / "manifest.json").read_text())["counts"],
             "safety": dict(zip(("baseline", "tuned"), safety, strict=True))}
    if config.retrieval.k > 0:
        extra["retrieval"] = json.loads((raft_dir / "retrieval.json").read_text())
    return write_report(
        out, baseline, tuned, config.evaluate.headline,
        title=f"raresupport: {spec.name} — {config.model}, baseline vs LoRA-tuned",
        extra=extra, cells=cells, sections=safety_blocks(*safety),
    )  # fmt: skip
