"""Baseline-vs-tuned report: metrics.json, report.md, report.html and two PNG charts.

Honesty rules built in: the headline method is chosen *before* evaluation (passed in), every
method's figures are printed next to it, and the tuned headline is also compared with the
baseline's *best* method on each benchmark, so a gain cannot come from picking a scorer the
untuned model happens to be bad at. Differences carry exact McNemar p-values on paired items.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from raresupport.evaluate.cells import four_cell_sections, four_cells
from raresupport.evaluate.metrics import mcnemar_test
from raresupport.evaluate.runner import write_metrics

ACCURACY_PNG = "accuracy_by_task.png"
LETTERS_PNG = "letter_distribution.png"


# --------------------------------------------------------------------------- comparison


def _method_block(metrics: Mapping[str, Any], bench: str, method: str) -> dict[str, Any] | None:
    return metrics.get("benchmarks", {}).get(bench, {}).get("by_method", {}).get(method)


def _paired(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Accuracy delta and McNemar test of b against a (None when either side is missing)."""
    if not a or not b:
        return None
    test = mcnemar_test(a.get("correct", {}), b.get("correct", {})) if "correct" in a else None
    return {
        "baseline": a["overall"],
        "baseline_ci": a["overall_ci"],
        "tuned": b["overall"],
        "tuned_ci": b["overall_ci"],
        "delta": b["overall"] - a["overall"],
        "mcnemar": test,
    }


def baseline_best_method(baseline: Mapping[str, Any], bench: str, headline: str) -> str | None:
    """The baseline's most accurate method on ``bench`` (ties prefer the headline method)."""
    by_method = baseline.get("benchmarks", {}).get(bench, {}).get("by_method", {})
    if not by_method:
        return None
    return max(sorted(by_method), key=lambda m: (by_method[m]["overall"], m == headline))


def compare(
    baseline: Mapping[str, Any], tuned: Mapping[str, Any], headline_method: str
) -> dict[str, Any]:
    """Per-benchmark comparison: every method, the headline, and tuned vs baseline's best."""
    out: dict[str, Any] = {}
    for bench in tuned.get("benchmarks", {}):
        if bench not in baseline.get("benchmarks", {}):
            continue
        methods = sorted(
            set(baseline["benchmarks"][bench]["by_method"])
            | set(tuned["benchmarks"][bench]["by_method"])
        )
        best = baseline_best_method(baseline, bench, headline_method)
        tuned_head = _method_block(tuned, bench, headline_method)
        out[bench] = {
            "headline_method": headline_method,
            "headline": _paired(_method_block(baseline, bench, headline_method), tuned_head),
            "baseline_best_method": best,
            "tuned_headline_vs_baseline_best": _paired(
                _method_block(baseline, bench, best) if best else None, tuned_head
            ),
            "by_method": {
                m: _paired(_method_block(baseline, bench, m), _method_block(tuned, bench, m))
                for m in methods
            },
        }
    return out


# --------------------------------------------------------------------------- charts


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _bar_values(block: Mapping[str, Any] | None, tasks: list[str]) -> tuple[list, list, list]:
    """Accuracy and asymmetric Wilson error bars for each task, then overall."""
    accs, lows, highs = [], [], []
    for task in tasks:
        if not block:
            acc, ci = 0.0, (0.0, 0.0)
        elif task == "overall":
            acc, ci = block["overall"], block["overall_ci"]
        else:
            t = block["by_task"].get(task)
            acc, ci = (t["acc"], t["ci"]) if t else (0.0, (0.0, 0.0))
        accs.append(acc)
        lows.append(max(0.0, acc - ci[0]))
        highs.append(max(0.0, ci[1] - acc))
    return accs, lows, highs


def accuracy_chart(
    path: Path, baseline: Mapping[str, Any], tuned: Mapping[str, Any], method: str,
    labels: tuple[str, str],
) -> Path:  # fmt: skip
    """Accuracy per task and overall, baseline vs tuned, 95 % Wilson intervals as error bars."""
    plt = _plt()
    benches = [b for b in tuned.get("benchmarks", {}) if b in baseline.get("benchmarks", {})]
    fig, axes = plt.subplots(len(benches) or 1, 1, figsize=(8, 3.2 * max(1, len(benches))))
    axes = list(axes) if hasattr(axes, "__len__") else [axes]
    for ax, bench in zip(axes, benches, strict=False):
        blocks = [_method_block(m, bench, method) for m in (baseline, tuned)]
        tasks = sorted({t for b in blocks if b for t in b["by_task"]}) + ["overall"]
        xs = range(len(tasks))
        for offset, block, label in zip((-0.2, 0.2), blocks, labels, strict=True):
            accs, lo, hi = _bar_values(block, tasks)
            ax.bar([x + offset for x in xs], accs, 0.4, yerr=[lo, hi], capsize=3, label=label)
        ax.set_xticks(list(xs), tasks)
        ax.set_ylim(0, 1.15)
        ax.set_ylabel("accuracy")
        ax.set_title(f"{bench} - method: {method}")
        ax.legend(loc="upper left", ncol=2, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def letters_chart(
    path: Path, baseline: Mapping[str, Any], tuned: Mapping[str, Any], labels: tuple[str, str]
) -> Path:
    """Share of each predicted letter vs the key's distribution (spots mode collapse)."""
    plt = _plt()
    benches = [b for b in tuned.get("benchmarks", {}) if b in baseline.get("benchmarks", {})]
    methods = sorted({m for b in benches for m in tuned["benchmarks"][b]["by_method"]})
    rows, cols = max(1, len(benches)), max(1, len(methods))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for r, bench in enumerate(benches):
        key = baseline["benchmarks"][bench].get("answer_distribution", {})
        for c, method in enumerate(methods):
            ax = axes[r][c]
            dists = [key] + [
                (_method_block(m, bench, method) or {}).get("letter_distribution", {})
                for m in (baseline, tuned)
            ]
            letters = sorted({k for d in dists for k in d}, key=lambda x: (x == "none", x))
            for i, (dist, label) in enumerate(zip(dists, ("key", *labels), strict=True)):
                total = sum(dist.values()) or 1
                shares = [dist.get(k, 0) / total for k in letters]
                ax.bar([x + (i - 1) * 0.27 for x in range(len(letters))], shares, 0.27, label=label)
            ax.set_xticks(range(len(letters)), letters)
            ax.set_ylim(0, 1.15)
            ax.set_ylabel("share of items")
            ax.set_title(f"{bench} - {method}", fontsize=9)
            ax.legend(loc="upper left", ncol=3, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- text


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _acc_ci(acc: float | None, ci: Any) -> str:
    return "-" if acc is None else f"{_pct(acc)} [{_pct(ci[0])}, {_pct(ci[1])}]"


def _p(test: Mapping[str, Any] | None) -> str:
    if not test:
        return "-"
    return f"{test['p_value']:.3g} (b={test['b']}, c={test['c']})"


def _method_rows(comp: Mapping[str, Any], headline: str) -> list[list[str]]:
    rows = []
    for method, pair in comp["by_method"].items():
        name = f"**{method}** (headline)" if method == headline else method
        if pair is None:
            rows.append([name, "-", "-", "-", "-"])
            continue
        rows.append(
            [name, _acc_ci(pair["baseline"], pair["baseline_ci"]),
             _acc_ci(pair["tuned"], pair["tuned_ci"]), f"{100 * pair['delta']:+.1f} pts",
             _p(pair["mcnemar"])]
        )  # fmt: skip
    return rows


def _task_rows(baseline: Mapping, tuned: Mapping, bench: str, method: str) -> list[list[str]]:
    a, b = _method_block(baseline, bench, method), _method_block(tuned, bench, method)
    tasks = sorted({t for blk in (a, b) if blk for t in blk["by_task"]})
    rows = []
    for task in tasks:
        ta = (a or {}).get("by_task", {}).get(task)
        tb = (b or {}).get("by_task", {}).get(task)
        n = (ta or tb)["n"]
        rows.append(
            [task, str(n), _acc_ci(ta and ta["acc"], ta and ta["ci"]),
             _acc_ci(tb and tb["acc"], tb and tb["ci"])]
        )  # fmt: skip
    return rows


def _letter_rows(baseline: Mapping, tuned: Mapping, bench: str, labels) -> list[list[str]]:
    key = baseline["benchmarks"][bench].get("answer_distribution", {})
    rows = [["key", "-", _dist_text(key)]]
    for metrics, label in zip((baseline, tuned), labels, strict=True):
        for method, block in metrics["benchmarks"][bench]["by_method"].items():
            rows.append([label, method, _dist_text(block.get("letter_distribution", {}))])
    return rows


def _dist_text(dist: Mapping[str, int]) -> str:
    total = sum(dist.values()) or 1
    top = max(dist.values(), default=0) / total
    return " ".join(f"{k}:{v}" for k, v in dist.items()) + f" (max share {100 * top:.0f}%)"


def _best_sentence(comp: Mapping[str, Any], labels: tuple[str, str]) -> str:
    pair, best = comp["tuned_headline_vs_baseline_best"], comp["baseline_best_method"]
    if not pair:
        return "Tuned headline vs baseline's best method: not available."
    return (
        f"Tuned headline vs the BASELINE'S BEST method: the {labels[0]}'s best method here is "
        f"`{best}` ({_acc_ci(pair['baseline'], pair['baseline_ci'])}); the {labels[1]} model's "
        f"`{comp['headline_method']}` scores {_acc_ci(pair['tuned'], pair['tuned_ci'])}, "
        f"a difference of {100 * pair['delta']:+.1f} points (McNemar p = {_p(pair['mcnemar'])})."
    )


def _sections(baseline, tuned, comparison, headline, labels, cells_summary=None, more=()):
    """Report content as (kind, payload) blocks, rendered to Markdown or HTML.

    ``cells_summary``: the four-cell table (first); ``more``: further blocks (e.g. the safety
    section) placed before the charts.
    """
    yield (
        "p",
        (
            f"Headline method: **{headline}**, fixed before evaluation. Every method's figures are "
            "shown; the tuned headline is also compared with the baseline's best method on each "
            "benchmark. Intervals are 95 % Wilson; p-values are exact McNemar tests on paired "
            f"items (b = right only for {labels[0]}, c = right only for {labels[1]})."
        ),
    )
    yield from four_cell_sections(cells_summary or {})
    if cells_summary:
        yield "h2", "Without notes, method by method"
    for bench, comp in comparison.items():
        n = tuned["benchmarks"][bench].get("n", "?")
        yield "h2", f"{bench} (n = {n})"
        yield "table", (["method", labels[0], labels[1], "change", "McNemar p"],
                        _method_rows(comp, headline))  # fmt: skip
        yield "p", _best_sentence(comp, labels)
        yield "h3", f"Per task ({headline})"
        yield "table", (["task", "n", labels[0], labels[1]],
                        _task_rows(baseline, tuned, bench, headline))  # fmt: skip
        yield "h3", "Predicted letters"
        yield "table", (["model", "method", "distribution"],
                        _letter_rows(baseline, tuned, bench, labels))  # fmt: skip
    yield from more
    yield "h2", "Charts"
    yield "img", (ACCURACY_PNG, f"Accuracy per task ({headline}), 95 % Wilson intervals")
    yield "img", (LETTERS_PNG, "Predicted-letter distribution vs answer key")


def _markdown(title: str, blocks) -> str:
    out = [f"# {title}", ""]
    for kind, payload in blocks:
        if kind in ("h2", "h3"):
            out += [f"{'#' * int(kind[1])} {payload}", ""]
        elif kind == "p":
            out += [payload, ""]
        elif kind == "table":
            head, rows = payload
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + "---|" * len(head))
            out += ["| " + " | ".join(r) + " |" for r in rows]
            out.append("")
        elif kind == "img":
            out += [f"![{payload[1]}]({payload[0]})", ""]
    return "\n".join(out)


def _html(title: str, blocks, out_dir: Path) -> str:
    esc = html.escape
    body = [f"<h1>{esc(title)}</h1>"]
    for kind, payload in blocks:
        if kind in ("h2", "h3"):
            body.append(f"<{kind}>{esc(payload)}</{kind}>")
        elif kind == "p":
            text = esc(payload).replace("**", "")
            body.append(f"<p>{text}</p>")
        elif kind == "table":
            head, rows = payload
            cells = "".join(f"<th>{esc(h)}</th>" for h in head)
            trs = "".join(
                "<tr>" + "".join(f"<td>{esc(c).replace('**', '')}</td>" for c in r) + "</tr>"
                for r in rows
            )
            body.append(f"<table><tr>{cells}</tr>{trs}</table>")
        elif kind == "img":
            data = base64.b64encode((out_dir / payload[0]).read_bytes()).decode("ascii")
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{esc(payload[1])}">'
                f"<figcaption>{esc(payload[1])}</figcaption></figure>"
            )
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em}"
        "img{max-width:100%}"
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_report(
    out_dir: str | Path,
    baseline_metrics: Mapping[str, Any],
    tuned_metrics: Mapping[str, Any],
    headline_method: str,
    *,
    labels: tuple[str, str] = ("baseline", "tuned"),
    title: str = "raresupport evaluation: baseline vs tuned",
    extra: Mapping[str, Any] | None = None,
    cells: Mapping[str, Any] | None = None,
    sections: Iterable[tuple[str, Any]] = (),
) -> dict[str, Path]:
    """Write metrics.json, report.md, report.html and the PNG charts into ``out_dir``.

    ``*_metrics`` are :func:`evaluate_benchmarks` outputs; ``extra`` (model names, seeds, ...)
    is stored in metrics.json as given. ``cells`` (``{"baseline+notes": metrics, "tuned+notes":
    metrics}``, see :mod:`raresupport.evaluate.cells`) adds the four-cell table, with the
    baseline and tuned metrics as the cells without notes; ``sections`` are extra report blocks
    (``("h2", text)``, ``("p", text)``, ``("table", (head, rows))``) shown before the charts.
    Returns the written paths by kind.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    comparison = compare(baseline_metrics, tuned_metrics, headline_method)
    cells_summary = (
        four_cells({"baseline": baseline_metrics, "tuned": tuned_metrics, **cells},
                   headline_method) if cells else {}
    )  # fmt: skip
    combined = {
        "headline_method": headline_method,
        "labels": list(labels),
        "comparison": comparison,
        "baseline": baseline_metrics,
        "tuned": tuned_metrics,
        **({"four_cells": cells_summary, "with_notes": dict(cells)} if cells else {}),
        **({"extra": dict(extra)} if extra else {}),
    }
    paths = {"metrics": write_metrics(out / "metrics.json", combined)}
    paths["accuracy_chart"] = accuracy_chart(
        out / ACCURACY_PNG, baseline_metrics, tuned_metrics, headline_method, labels
    )
    paths["letters_chart"] = letters_chart(
        out / LETTERS_PNG, baseline_metrics, tuned_metrics, labels
    )
    blocks = list(_sections(baseline_metrics, tuned_metrics, comparison, headline_method, labels,
                            cells_summary, sections))  # fmt: skip
    paths["markdown"] = out / "report.md"
    paths["markdown"].write_text(_markdown(title, blocks), encoding="utf-8")
    paths["html"] = out / "report.html"
    paths["html"].write_text(_html(title, blocks, out), encoding="utf-8")
    return paths


def load_metrics(path: str | Path) -> dict[str, Any]:
    """Read a metrics.json written by the eval command."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
