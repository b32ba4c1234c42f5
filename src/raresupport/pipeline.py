"""``raresupport run``: generate -> validate -> train -> evaluate baseline and tuned -> report.

Each step leaves a marker file; a re-run skips finished steps and training resumes from its
last checkpoint, so an interrupted run costs only the step it was in. Everything the run says,
training progress included, is also appended to ``DIR/run.log``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from raresupport.config import RunConfig
from raresupport.data.jsonl import read_json, write_json
from raresupport.errors import RareSupportError

RUN_LOG = "run.log"
_log = logging.getLogger("raresupport.pipeline")


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
        old = read_json(path)
        if old != new:
            changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            raise RunFolderError(
                f"{path}: this folder holds a {what} with a different configuration "
                f"(differs in: {', '.join(changed)}); use another --out or the same options"
            )
        return
    write_json(path, new)


@contextmanager
def _run_log(path: Path) -> Iterator[None]:
    """Append every ``raresupport.*`` log record (progress lines, warnings) to ``path``."""
    root = logging.getLogger("raresupport")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s", "%H:%M:%S"))
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def _step(
    name: str, done: Path, fn: Callable[[], Any], say: Callable[[str], None], timings: dict
) -> None:
    if done.exists():
        say(f"[skip] {name}: already done ({done})")
        return
    say(f"[run ] {name} ...")
    t0 = time.perf_counter()
    fn()
    timings[name] = round(time.perf_counter() - t0, 1)
    say(f"[done] {name} in {timings[name]:.1f}s ({sum(timings.values()):.0f}s so far)")


def _evaluate(config: RunConfig, spec: Any, adapter: Path | None, benches: list[Path],
              out: Path) -> None:
    """One model in two cells (without / with notes); see ``evaluate/as_run.py``."""
    from raresupport.evaluate.as_run import SETTINGS_FILE, eval_settings, evaluate_cells

    settings = eval_settings(config, spec)
    write_json(out.parent / SETTINGS_FILE, settings)
    base = out.with_name("baseline") / "predictions.jsonl" if adapter is not None else None
    evaluate_cells(settings, spec, adapter, benches,
                   {"plain": out, "notes": out.with_name(out.name + "+notes")},
                   base_predictions=base)  # fmt: skip


def _raft(config: RunConfig, spec: Any, data_dir: Path, raft_dir: Path) -> None:
    """Training items with the notes the run's retriever returns for them (RAFT shares)."""
    from raresupport.retrieve import load_retriever
    from raresupport.retrieve.notes import write_raft_dataset

    rcfg = config.retrieval
    retriever = load_retriever(spec, rcfg.retriever, **rcfg.options())
    write_raft_dataset(data_dir, raft_dir, retriever, rcfg, seed=config.train.seed)


def _generate(config: RunConfig, disease: Any, data_dir: Path, say: Callable[[str], None]) -> None:
    from raresupport.generate import get_generator
    from raresupport.generate.dataset import generate_dataset, shortfall

    gen = config.generate
    generator = get_generator(
        gen.generator, gen.options, cache_dir=data_dir / ".cache" / gen.generator
    )
    manifest = generate_dataset(
        disease, generator, gen.n, data_dir, seed=gen.seed, avoid=gen.avoid,
        val_fraction=gen.val_fraction, people_val=gen.people_val,
    )  # fmt: skip
    if (short := shortfall(manifest)) is not None:
        say(f"warning: {short}")


def run_pipeline(
    config: RunConfig, out_dir: str | Path, *, log: Callable[[str], None] = print
) -> dict[str, Path]:
    """Run (or resume) the whole pipeline into ``out_dir``.

    Args:
        config: the run's configuration (saved first as ``run_config.json``).
        log: where step messages go (they also go to ``out_dir/run.log``).

    Returns:
        the report's paths (``html``, ``md``, ``json``...).

    Raises:
        RunFolderError: ``out_dir`` holds a run under another configuration, or the disease
            has no benchmark.
        RareSupportError: a bad spec, data or model (one line each).
    """
    from raresupport.diseases import load_disease

    out = Path(out_dir)
    disease = load_disease(config.disease)  # fail on a bad spec before writing anything
    _check_config(out, config)
    with _run_log(out / RUN_LOG):

        def say(message: str) -> None:
            log(message)
            _log.info(message)

        return _run(config, out, disease, say)


def _run(config: RunConfig, out: Path, disease: Any, say: Callable[[str], None]) -> dict:
    from raresupport.evaluate.report import load_metrics, write_report
    from raresupport.safety.report import safety_blocks
    from raresupport.safety.run import load_safety, safety_steps

    spec = disease.spec
    timings_path = out / "timings.json"
    timings: dict[str, float] = read_json(timings_path) if timings_path.exists() else {}
    data_dir, adapter_dir = out / "data", out / "adapter"
    train_cfg = config.train
    if train_cfg.system_prompt is None:
        train_cfg = train_cfg.model_copy(update={"system_prompt": spec.system_prompt})
    benches = [p for p in (disease.benchmark_path, disease.ood_path) if p is not None]
    benches += config.evaluate.extra_benchmarks
    if not benches:
        raise RunFolderError(f"{disease.root}: disease has no benchmark.jsonl to evaluate on")
    raft_dir = out / "raft"
    train_data = raft_dir if config.retrieval.k > 0 else data_dir
    estimate = Estimate(out, say)
    safety_base, safety_tuned = safety_steps(config, disease, out) or (None, None)
    steps = [
        ("generate", data_dir / "manifest.json", lambda: _generate(config, disease, data_dir, say)),
        ("retrieve", raft_dir / "retrieval.json", lambda: _raft(config, spec, data_dir, raft_dir)),
        ("evaluate baseline", out / "eval" / "baseline" / "metrics.json",
         lambda: _evaluate(config, spec, None, benches, out / "eval" / "baseline")),
        safety_base,
        ("train", adapter_dir / "train_summary.json",
         lambda: _train(config.model, train_data, adapter_dir, train_cfg, estimate.on_step)),
        ("evaluate tuned", out / "eval" / "tuned" / "metrics.json",
         lambda: _evaluate(config, spec, adapter_dir, benches, out / "eval" / "tuned")),
        safety_tuned,
    ]  # fmt: skip
    steps = [s for s in steps if s is not None and (config.retrieval.k > 0 or s[0] != "retrieve")]
    say(f"plan: {', '.join(s[0] for s in steps)}; the time left is estimated from the first "
        "training steps")
    for name, done, fn in steps:
        _step(name, done, fn, say, timings)
        write_json(timings_path, timings)
    baseline = load_metrics(out / "eval" / "baseline" / "metrics.json")
    tuned = load_metrics(out / "eval" / "tuned" / "metrics.json")
    cells = {f"{side}+notes": load_metrics(out / "eval" / f"{side}+notes" / "metrics.json")
             for side in ("baseline", "tuned") if config.retrieval.k > 0}  # fmt: skip
    safety = [load_safety(out / "eval" / label) for label in ("baseline", "tuned")]
    extra = {"disease": spec.id, "model": config.model, "timings_s": timings,
             "dataset": read_json(data_dir / "manifest.json")["counts"],
             "safety": dict(zip(("baseline", "tuned"), safety, strict=True))}
    if config.retrieval.k > 0:
        extra["retrieval"] = read_json(raft_dir / "retrieval.json")
    return write_report(
        out, baseline, tuned, config.evaluate.headline,
        title=f"raresupport: {spec.name} — {config.model}, baseline vs LoRA-tuned",
        extra=extra, cells=cells,
        sections=[*safety_blocks(*safety), *run_blocks(timings, out)],
    )  # fmt: skip


def _train(model: str, data: Path, out: Path, cfg: Any, on_step: Callable) -> None:
    """Train, then free what training held before the scoring steps run in this process."""
    import gc

    from raresupport.train.lora import train_lora

    train_lora(model, data, out, cfg, resume=True, on_step=on_step)
    gc.collect()


def cached_steps(out: Path) -> dict[str, str]:
    """``{step name: score-cache key}`` for the untuned steps read from the score cache."""
    hits: dict[str, str] = {}
    for name, path in (("evaluate baseline", out / "eval" / "baseline" / "metrics.json"),
                       ("safety baseline", out / "eval" / "baseline" / "safety.json")):
        if path.exists():
            got = read_json(path).get("score_cache") or {}
            if got.get("hit"):
                hits[name] = got["key"]
    return hits


def run_blocks(timings: dict[str, float], out: Path) -> list[tuple[str, Any]]:
    """The report's "Run time" section: seconds per step, and which came from the cache."""
    from raresupport.progress import duration

    hits = cached_steps(out)
    rows = [[name, f"{sec:.1f}", duration(sec),
             "read from the score cache" if name in hits else ""]
            for name, sec in timings.items()]  # fmt: skip
    text = (f"{duration(sum(timings.values()))} in all, over the steps run in this folder "
            "(a resumed run counts only the steps it ran).")
    if hits:
        text += (f" The untuned model's {' and '.join(hits)} came from the score cache: same "
                 "base weights, items, notes, prompt, scoring rules and precision as an earlier "
                 "run (`--no-score-cache` scores them again).")
    return [("h2", "Run time"), ("p", text),
            ("table", (["step", "seconds", "", "note"], rows))]  # fmt: skip


class Estimate:
    """Logs how long the run has left, from the steps timed so far and the first training steps.

    The tuned model's evaluation and safety steps score the same items as the untuned ones,
    so their times are estimated from those (measured in this run, or recorded in the score
    cache); training's from its own steps so far.
    """

    #: training steps after which an estimate is logged (then every 25 % of training)
    FIRST = 5

    def __init__(self, out: Path, say: Callable[[str], None]) -> None:
        self.out, self.say, self.logged = out, say, -1.0

    def _later(self) -> dict[str, float]:
        timings_path = self.out / "timings.json"
        timings = read_json(timings_path) if timings_path.exists() else {}
        later = {}
        base = self.out / "eval" / "baseline"
        for name, source, path in (("evaluate tuned", "evaluate baseline", base / "metrics.json"),
                                   ("safety tuned", "safety baseline", base / "safety.json")):
            if (self.out / "eval" / "tuned" / path.name).exists():
                continue
            seconds = timings.get(source)
            if seconds is None or source in cached_steps(self.out):
                seconds = _recorded_seconds(path)
            if seconds is not None:
                later[name] = seconds
        return later

    def on_step(self, record: dict[str, Any]) -> None:
        from raresupport.progress import duration

        step, total = record["step"], record.get("total_steps")
        if not total or step < self.FIRST or step / total < self.logged + 0.25:
            return
        self.logged = step / total
        later = {"train": record["seconds"] / step * (total - step), **self._later()}
        left = sum(later.values())
        ends = time.strftime("%H:%M", time.localtime(time.time() + left))
        parts = ", ".join(f"{k} ~{duration(v)}" for k, v in later.items())
        self.say(f"[time] {parts}: about {duration(left)} left (done near {ends})")


def _recorded_seconds(path: Path) -> float | None:
    """Scoring seconds a metrics.json (all benchmarks and methods) or safety.json recorded."""
    if not path.exists():
        return None
    data = read_json(path)
    if "seconds" in data:
        return float(data["seconds"])
    blocks = [b for bench in data.get("benchmarks", {}).values()
              for b in bench.get("by_method", {}).values()]  # fmt: skip
    return sum(float(b.get("seconds", 0.0)) for b in blocks) or None
