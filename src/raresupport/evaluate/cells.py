"""The four-cell comparison: baseline / tuned x without / with retrieved notes.

What training adds and what retrieval adds are both visible only side by side. Each cell is a
metrics.json (``evaluate_benchmarks`` output). The headline (a scoring rule fixed in the run
config before evaluation) of the *tuned + notes* cell is held against the **baseline's best
cell**: the best of every scoring rule and normalisation the baseline was scored with, with and
without notes, so a gain cannot come from picking a rule or a prompt the untuned model happens
to be bad at.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from raresupport.evaluate.metrics import mcnemar_test

#: cell names, in table order; ``+notes`` cells saw the retrieved notes block
CELLS: tuple[str, ...] = ("baseline", "baseline+notes", "tuned", "tuned+notes")
BASELINE_CELLS = CELLS[:2]
HEADLINE_CELL = "tuned+notes"


def rules(method_block: Mapping[str, Any], method: str) -> dict[str, Mapping[str, Any]]:
    """Every decision rule in one method's block: ``{"loglik": .., "loglik/per_token": ..}``."""
    out = {method: method_block}
    for name, block in method_block.get("variants", {}).items():
        out[f"{method}/{name}"] = block
    return out


def _block(metrics: Mapping[str, Any] | None, bench: str, rule: str) -> Mapping[str, Any] | None:
    if not metrics:
        return None
    method, _, variant = rule.partition("/")
    block = metrics.get("benchmarks", {}).get(bench, {}).get("by_method", {}).get(method)
    if block and variant:
        block = block.get("variants", {}).get(variant)
    return block


def best_baseline_cell(cells: Mapping[str, Any], bench: str, headline: str) -> tuple | None:
    """``(cell, rule, block)`` with the highest overall accuracy among the baseline cells.

    Ties prefer the headline rule, then the cell without notes.
    """
    best: tuple | None = None
    for cell in BASELINE_CELLS:
        methods = ((cells.get(cell) or {}).get("benchmarks", {}).get(bench, {})
                   .get("by_method", {}))  # fmt: skip
        for method, mblock in methods.items():
            for rule, block in rules(mblock, method).items():
                key = (block["overall"], rule == headline, cell == "baseline")
                if best is None or key > best[0]:
                    best = (key, cell, rule, block)
    return best[1:] if best else None


def _pair(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not a or not b:
        return None
    test = (mcnemar_test(a["correct"], b["correct"])
            if "correct" in a and "correct" in b else None)  # fmt: skip
    return {"a": a["overall"], "b": b["overall"], "delta": b["overall"] - a["overall"],
            "mcnemar": test}  # fmt: skip


def four_cells(cells: Mapping[str, Any], headline: str) -> dict[str, Any]:
    """Per benchmark: each cell's headline accuracy (overall and per task), the baseline's
    best cell, and the tuned + notes headline against it (paired McNemar)."""
    benches = [b for b in (cells.get(HEADLINE_CELL) or cells.get("tuned") or {})
               .get("benchmarks", {})]  # fmt: skip
    out: dict[str, Any] = {}
    for bench in benches:
        row: dict[str, Any] = {"headline": headline, "cells": {}}
        for cell in CELLS:
            block = _block(cells.get(cell), bench, headline)
            if block is not None:
                row["cells"][cell] = {
                    "overall": block["overall"], "ci": block["overall_ci"],
                    "by_task": {t: v["acc"] for t, v in block.get("by_task", {}).items()},
                }  # fmt: skip
        noted = cells.get(HEADLINE_CELL) or {}
        counted = noted.get("benchmarks", {}).get(bench, {})
        if "with_notes" in counted:
            row["notes"] = {
                "n": counted.get("n"), "with_notes": counted["with_notes"],
                "off_topic": (noted.get("retrieval") or {}).get("off_topic", "tuned"),
            }  # fmt: skip
        best = best_baseline_cell(cells, bench, headline)
        if best:
            cell, rule, block = best
            row["baseline_best"] = {"cell": cell, "rule": rule, "overall": block["overall"]}
            row["headline_vs_baseline_best"] = _pair(
                block, _block(cells.get(HEADLINE_CELL), bench, headline))
        out[bench] = row
    return out


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def four_cell_sections(summary: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Report blocks (``("h2"|"p"|"table", payload)``) for :func:`four_cells`' output."""
    if not summary:
        return
    yield "h2", "Baseline / tuned x without / with retrieved notes"
    for bench, row in summary.items():
        present = [c for c in CELLS if c in row["cells"]]
        tasks = sorted({t for c in present for t in row["cells"][c]["by_task"]})
        rows = [[t] + [_pct(row["cells"][c]["by_task"].get(t)) for c in present] for t in tasks]
        rows.append(["**overall**"] + [_pct(row["cells"][c]["overall"]) for c in present])
        yield "h3", f"{bench} ({row['headline']})"
        yield "table", (["task", *present], rows)
        if notes := row.get("notes"):
            rest = notes["n"] - notes["with_notes"]
            base = notes["off_topic"] == "base"
            who = ("the base model with the adapter off (`retrieval.off_topic: base`)" if base
                   else "the tuned model without notes")  # fmt: skip
            yield "p", (
                f"{notes['with_notes']} of {notes['n']} questions got notes; in {HEADLINE_CELL}, "
                f"the {rest} the relevance gate found off-topic were answered by {who}."
            )
        pair, best = row.get("headline_vs_baseline_best"), row.get("baseline_best")
        if pair and best:
            test = pair["mcnemar"]
            p = f"{test['p_value']:.3g} (b={test['b']}, c={test['c']})" if test else "-"
            yield "p", (
                f"{HEADLINE_CELL} `{row['headline']}` {_pct(pair['b'])} vs the baseline's best "
                f"cell ({best['cell']}, `{best['rule']}`) {_pct(pair['a'])}: "
                f"{100 * pair['delta']:+.1f} points, McNemar p = {p}."
            )
