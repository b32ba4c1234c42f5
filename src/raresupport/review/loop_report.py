"""The loop's report: baseline vs the last round (the usual report), plus a per-round table
(accuracy per benchmark and task by the headline method, items reviewed, approval rate) and a
plot of accuracy per task across rounds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROUNDS_PNG = "rounds.png"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def round_rows(out: Path, config: Any) -> list[dict[str, Any]]:
    """One record per finished round: dataset, review counts and headline accuracies."""
    from raresupport.evaluate.report import load_metrics

    method = config.run.evaluate.headline
    rows = []
    for r in range(config.rounds + 1):
        rd = out / "rounds" / str(r)
        if not (rd / "eval" / "metrics.json").is_file():
            break
        metrics = load_metrics(rd / "eval" / "metrics.json")
        manifest = json.loads((out / "data" / f"v{r + 1}" / "manifest.json").read_text())
        review = json.loads((rd / "review.json").read_text()) if r else {}
        n = review.get("items", 0)
        acc = {}
        for bench, block in metrics["benchmarks"].items():
            m = block["by_method"][method]
            acc[bench] = {"overall": m["overall"], **{t: v["acc"] for t, v in m["by_task"].items()}}
        rows.append({
            "round": r, "dataset": f"v{r + 1}", "train_items": manifest["counts"]["train"],
            "reviewed": n, "approve": review.get("approve", 0), "correct": review.get("correct", 0),
            "reject": review.get("reject", 0),
            "approval_rate": review.get("approve", 0) / n if n else None, "accuracy": acc,
        })  # fmt: skip
    return rows


def rounds_chart(path: Path, rows: list[dict[str, Any]], method: str) -> Path:
    """Accuracy per task (and overall) per round, one panel per benchmark."""
    from raresupport.evaluate.report import _plt

    plt = _plt()
    benches = sorted({b for row in rows for b in row["accuracy"]})
    fig, axes = plt.subplots(len(benches) or 1, 1, figsize=(7, 3 * max(1, len(benches))))
    axes = list(axes) if hasattr(axes, "__len__") else [axes]
    for ax, bench in zip(axes, benches, strict=False):
        keys = sorted({k for row in rows for k in row["accuracy"].get(bench, {})})
        for key in keys:
            pts = [(row["round"], row["accuracy"][bench].get(key)) for row in rows]
            pts = [(x, y) for x, y in pts if y is not None]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=key,
                    linewidth=2.5 if key == "overall" else 1.2)  # fmt: skip
        ax.set_xticks([row["round"] for row in rows])
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("round")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{bench} - method: {method}")
        ax.legend(fontsize=8, ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _blocks(rows: list[dict[str, Any]], method: str):
    benches = sorted({b for row in rows for b in row["accuracy"]})
    yield "h2", "Feedback rounds"
    yield "p", (f"Round 0 trains on the generated dataset v1; round r answers fresh items with "
                f"round r-1's model, a reviewer decides them, and the approved and corrected "
                f"items join dataset v(r+1), on which round r trains. Accuracy by {method}.")
    head = ["round", "dataset", "train items", "reviewed", "approved", "corrected", "rejected",
            "approval rate", *benches]  # fmt: skip
    body = [[str(row["round"]), row["dataset"], str(row["train_items"]), str(row["reviewed"]),
             str(row["approve"]), str(row["correct"]), str(row["reject"]),
             _pct(row["approval_rate"]),
             *(_pct(row["accuracy"].get(b, {}).get("overall")) for b in benches)]
            for row in rows]  # fmt: skip
    yield "table", (head, body)
    for bench in benches:
        tasks = sorted({t for row in rows for t in row["accuracy"].get(bench, {})} - {"overall"})
        yield "h3", f"{bench}: accuracy per task per round"
        yield "table", (["round", *tasks], [
            [str(row["round"]), *(_pct(row["accuracy"].get(bench, {}).get(t)) for t in tasks)]
            for row in rows])  # fmt: skip
    yield "img", (ROUNDS_PNG, f"Accuracy per task per round ({method})")


def write_loop_report(out: Path, config: Any, spec: Any, timings: dict) -> dict[str, Path]:
    """report.md/html (baseline vs last round, then the rounds section), rounds.json/png."""
    from raresupport.evaluate.report import _html, _markdown, load_metrics, write_report

    method = config.run.evaluate.headline
    rows = round_rows(out, config)
    last = rows[-1]["round"]
    paths = write_report(
        out, load_metrics(out / "eval" / "baseline" / "metrics.json"),
        load_metrics(out / "rounds" / str(last) / "eval" / "metrics.json"), method,
        labels=("baseline", f"round {last}"),
        title=f"raresupport loop: {spec.name} — {config.run.model}, {config.rounds} feedback "
              f"round(s), reviewer {config.review.reviewer}",
        extra={"disease": spec.id, "model": config.run.model, "timings_s": timings,
               "rounds": rows},
    )  # fmt: skip
    paths["rounds_json"] = out / "rounds.json"
    paths["rounds_json"].write_text(json.dumps(rows, indent=2), encoding="utf-8")
    paths["rounds_chart"] = rounds_chart(out / ROUNDS_PNG, rows, method)
    blocks = list(_blocks(rows, method))
    md = _markdown("", blocks).split("\n", 2)[2]  # drop the empty title
    paths["markdown"].write_text(paths["markdown"].read_text() + "\n" + md, encoding="utf-8")
    section = _html("", blocks, out)
    section = section[section.index("<h2>") : section.rindex("</body>")]
    page = paths["html"].read_text(encoding="utf-8")
    paths["html"].write_text(page.replace("</body>", section + "</body>", 1), encoding="utf-8")
    return paths
