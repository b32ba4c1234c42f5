"""``raresupport loop``: train, then rounds of answer -> review -> new dataset version -> retrain.

Layout of ``DIR``::

    loop_config.json            the LoopConfig (a resume under another one is refused)
    data/v1/ ... data/v{R+1}/   dataset versions (v1 generated; each later one reviewed)
    review.sqlite               the review store (items and decisions of every round)
    eval/baseline/              the untuned model
    rounds/0/adapter, eval/     round 0: trained on v1 (raft/: v1 with notes, when retrieval is on)
    rounds/r/adapter, eval/     round r: trained on v{r+1}, made from round r-1's answers
    rounds.json, report.*       per-round table and plot

Every step leaves a marker file and a re-run skips finished steps (as ``raresupport run``);
training resumes from its last checkpoint and a review resumes at the first undecided item, so
an interrupted loop repeats at most the step it was in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from raresupport.errors import RareSupportError
from raresupport.review.config import LoopConfig
from raresupport.review.store import ReviewStore
from raresupport.review.versions import MANIFEST, make_version, version_dir


class LoopError(RareSupportError):
    """A loop cannot go on (e.g. a review left items undecided)."""


def _check_config(out: Path, config: LoopConfig) -> None:
    """The run's own folder check (``pipeline._check_config``) on ``loop_config.json``."""
    from raresupport.pipeline import _check_config as check

    check(out, config, "loop_config.json", "loop")


class _Loop:
    """The steps of one loop folder, as closures over its paths."""

    def __init__(self, config: LoopConfig, out: Path, log: Callable[[str], None]) -> None:
        from raresupport.diseases import load_disease

        self.config, self.out, self.log = config, out, log
        self.run = config.run
        self.disease = load_disease(self.run.disease)
        self.spec = self.disease.spec
        train = self.run.train
        if train.system_prompt is None:
            train = train.model_copy(update={"system_prompt": self.spec.system_prompt})
        self.train_cfg = train
        later = config.round_train or train
        if later.system_prompt is None:
            later = later.model_copy(update={"system_prompt": self.spec.system_prompt})
        self.round_train_cfg = later
        self.data = out / "data"
        self.benches = [p for p in (self.disease.benchmark_path, self.disease.ood_path) if p]
        self.benches += self.run.evaluate.extra_benchmarks
        if not self.benches:
            raise LoopError(f"{self.disease.root}: disease has no benchmark.jsonl to evaluate on")
        self._store: ReviewStore | None = None

    @property
    def store(self) -> ReviewStore:
        if self._store is None:
            self._store = ReviewStore(self.out / "review.sqlite")
        return self._store

    def round_dir(self, r: int) -> Path:
        return self.out / "rounds" / str(r)

    def generator(self) -> Any:
        from raresupport.generate import get_generator

        gen = self.run.generate
        return get_generator(
            gen.generator, gen.options, cache_dir=self.data / ".cache" / gen.generator
        )

    # ------------------------------------------------------------------ steps

    def generate(self) -> None:
        from raresupport.generate.dataset import generate_dataset

        g = self.run.generate
        generate_dataset(
            self.disease, self.generator(), g.n, version_dir(self.data, 1), seed=g.seed,
            avoid=g.avoid, val_fraction=g.val_fraction,
        )  # fmt: skip

    def train(self, r: int) -> None:
        from raresupport.train.lora import train_lora

        resume_from = None
        if r > 0 and self.config.retrain == "resume":
            resume_from = self.round_dir(r - 1) / "adapter"
        cfg = self.train_cfg if r == 0 else self.round_train_cfg
        train_lora(self.run.model, self.train_data(r), self.round_dir(r) / "adapter",
                   cfg, resume=True, init_adapter=resume_from)  # fmt: skip

    def train_data(self, r: int) -> Path:
        """Round r trains on v{r+1}; with retrieval on, on its RAFT copy (as ``run`` does)."""
        if self.run.retrieval.k > 0:
            return self.round_dir(r) / "raft"
        return version_dir(self.data, r + 1)

    def raft(self, r: int) -> None:
        from raresupport.pipeline import _raft

        _raft(self.run, self.spec, version_dir(self.data, r + 1), self.train_data(r))

    def evaluate(self, adapter: Path | None, out: Path) -> None:
        from raresupport.pipeline import _evaluate

        _evaluate(self.run, self.spec, adapter, self.benches, out)

    def evaluate_round(self, r: int) -> None:
        self.evaluate(self.round_dir(r) / "adapter", self.round_dir(r) / "eval")

    def answer(self, r: int) -> None:
        """Round r's fresh items, answered by round r-1's model, into the store."""
        from raresupport.data.vignette import load_vignettes
        from raresupport.models.load import load_model
        from raresupport.review.items import answer_items, fresh_vignettes

        rc = self.config.review
        seen = []
        for name in ("train.jsonl", "val.jsonl"):
            path = version_dir(self.data, r) / name
            if path.is_file():
                seen += load_vignettes(path)
        # earlier rounds' items too (not this round's: a re-run after a crash must make the same)
        seen += [i.vignette for i in self.store.items() if i.round < r]
        fresh = fresh_vignettes(self.disease, self.generator(), rc.n_items, seed=rc.seed + r,
                                seen=seen, prefix=f"r{r}")  # fmt: skip
        if not fresh:
            raise LoopError(f"round {r}: the generator made no fresh item unlike the training data")
        model, tokenizer = load_model(self.run.model, adapter=self.round_dir(r - 1) / "adapter")
        items = answer_items(
            model, tokenizer, fresh, self.spec, round=r, method=self.run.evaluate.headline,
            system_prompt=self.spec.system_prompt, batch_size=self.run.evaluate.batch_size,
            explanation_tokens=rc.explanation_tokens,
        )  # fmt: skip
        self.store.add_items(items)
        path = self.round_dir(r) / "items.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(i.model_dump_json() + "\n" for i in items), encoding="utf-8")

    def review(self, r: int) -> None:
        from raresupport.review.reviewers import get_reviewer

        rc = self.config.review
        reviewer = get_reviewer(rc.reviewer, **rc.options)
        items = self.store.items(round=r)
        reviewer.review(self.store, items, self.disease)
        decided = self._decisions(reviewer.kind, reviewer.id, r)
        left = [i.id for i in items if i.id not in decided]
        if left:
            raise LoopError(
                f"round {r}: {len(left)} of {len(items)} items are still undecided by "
                f"{reviewer.kind}:{reviewer.id}; re-run the same command to continue the review"
            )
        counts = {a: sum(d.action == a for d in decided.values())
                  for a in ("approve", "correct", "reject")}  # fmt: skip
        summary = {"round": r, "reviewer_kind": reviewer.kind, "reviewer_id": reviewer.id,
                   "items": len(items), **counts}  # fmt: skip
        (self.round_dir(r) / "review.json").write_text(json.dumps(summary, indent=2))

    def _decisions(self, kind: str, who: str, r: int) -> dict[str, Any]:
        found = self.store.decisions(reviewer_kind=kind, reviewer_id=who, round=r, latest=True)
        return {d.item_id: d for d in found}

    def version(self, r: int) -> None:
        s = json.loads((self.round_dir(r) / "review.json").read_text())
        decisions = list(self._decisions(s["reviewer_kind"], s["reviewer_id"], r).values())
        make_version(self.data, r + 1, self.store.items(round=r), decisions)

    # ------------------------------------------------------------------ driver

    def steps(self) -> list[tuple[str, Path, Callable[[], Any]]]:
        steps = [
            ("generate v1", version_dir(self.data, 1) / MANIFEST, self.generate),
            ("evaluate baseline", self.out / "eval" / "baseline" / "metrics.json",
             lambda: self.evaluate(None, self.out / "eval" / "baseline")),
        ]  # fmt: skip
        for r in range(self.config.rounds + 1):
            rd = self.round_dir(r)
            if r > 0:
                steps += [
                    (f"round {r} answer", rd / "items.jsonl", lambda r=r: self.answer(r)),
                    (f"round {r} review", rd / "review.json", lambda r=r: self.review(r)),
                    (f"round {r} dataset v{r + 1}", version_dir(self.data, r + 1) / MANIFEST,
                     lambda r=r: self.version(r)),
                ]  # fmt: skip
            if self.run.retrieval.k > 0:
                steps.append((f"round {r} notes", rd / "raft" / "retrieval.json",
                              lambda r=r: self.raft(r)))  # fmt: skip
            steps += [
                (f"round {r} train", rd / "adapter" / "train_summary.json",
                 lambda r=r: self.train(r)),
                (f"round {r} evaluate", rd / "eval" / "metrics.json",
                 lambda r=r: self.evaluate_round(r)),
            ]  # fmt: skip
        return steps


def run_loop(
    config: LoopConfig, out_dir: str | Path, *, log: Callable[[str], None] = print
) -> dict[str, Path]:
    """Run (or resume) a feedback loop into ``out_dir``; return the report's paths.

    Raises:
        RunFolderError: ``out_dir`` holds a loop with another configuration.
        LoopError: a review left items undecided (re-run to continue it).
    """
    from raresupport.pipeline import _step
    from raresupport.review.loop_report import write_loop_report

    out = Path(out_dir)
    loop = _Loop(config, out, log)  # a bad disease or spec fails before anything is written
    if config.review.reviewer:
        from raresupport.review.reviewers import get_reviewer

        get_reviewer(config.review.reviewer, **config.review.options)  # bad options: fail now
    _check_config(out, config)
    timings_path = out / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
    for name, done, fn in loop.steps():
        _step(name, done, fn, log, timings)
        timings_path.write_text(json.dumps(timings, indent=2), encoding="utf-8")
    return write_loop_report(out, config, loop.spec, timings)
