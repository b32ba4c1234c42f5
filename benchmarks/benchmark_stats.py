"""Shape of interchange benchmark files: items per task and style, key letters, key length.

On demand, not a test::

    python benchmarks/benchmark_stats.py FILE [FILE ...]
    python benchmarks/benchmark_stats.py --smoke    # the shipped hyperhidrosis files

Prints, per file, the item count per task (and per optional ``style`` field), the share of each
answer letter, the share of items whose key is strictly the longest option (chance is 1/k; the
shipped benchmark keeps it <= 0.35) and the mean key and distractor lengths in characters.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from raresupport.data import load_benchmark
from raresupport.generate.validate import key_longest_fraction


def describe(path: Path) -> str:
    """One text block of statistics for one benchmark file."""
    items = load_benchmark(path)
    styles = Counter(
        json.loads(line).get("style", "-")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    )
    n = len(items)
    tasks = Counter(i.task for i in items)
    letters = Counter(i.answer for i in items)
    key_len = sum(len(i.options[i.answer]) for i in items) / n
    others = [len(t) for i in items for k, t in i.options.items() if k != i.answer]
    lines = [
        f"{path}: {n} items",
        "  tasks:   " + ", ".join(f"{t}={c}" for t, c in sorted(tasks.items())),
        "  styles:  " + ", ".join(f"{s}={c}" for s, c in sorted(styles.items())),
        "  letters: " + ", ".join(f"{k}={c} ({c / n:.0%})" for k, c in sorted(letters.items())),
        f"  key strictly longest: {key_longest_fraction(items):.2f}",
        f"  mean length: key {key_len:.1f} chars, distractor {sum(others) / len(others):.1f} chars",
    ]
    for task in sorted(tasks):
        sub = [i for i in items if i.task == task]
        per = Counter(i.answer for i in sub)
        lines.append(
            f"  {task}: letters " + " ".join(f"{k}={per[k]}" for k in sorted(per))
            + f", key longest {key_longest_fraction(sub):.2f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    files = [Path(p) for p in sys.argv[1:] if p != "--smoke"]
    if "--smoke" in sys.argv[1:]:  # the shipped reference files
        shipped = Path(__file__).resolve().parents[1] / "src/raresupport/diseases/hyperhidrosis"
        files = [shipped / "benchmark.jsonl", shipped / "ood.jsonl"]
    if not files:
        sys.exit("usage: python benchmarks/benchmark_stats.py FILE [FILE ...] | --smoke")
    print("\n".join(describe(p) for p in files))
