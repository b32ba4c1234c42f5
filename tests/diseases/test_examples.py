"""Disease packages shipped under examples/ meet the bar a reference disease meets."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from raresupport.data import load_benchmark
from raresupport.diseases import load_disease

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PACKAGES = sorted(p.parent for p in EXAMPLES.glob("*/pyproject.toml"))


@pytest.mark.parametrize("pkg", PACKAGES, ids=lambda p: p.name)
def test_example_package_is_complete_and_sourced(pkg: Path) -> None:
    meta = tomllib.loads((pkg / "pyproject.toml").read_text())
    (disease_id, module), = meta["project"]["entry-points"]["raresupport.diseases"].items()
    d = load_disease(pkg / "src" / module)
    assert d.spec.id == disease_id
    spec = d.spec
    assert len(spec.facts) >= 60 and all(1 <= len(f.keys) <= 3 for f in spec.facts)
    assert {s.id for s in spec.sources} == {sid for f in spec.facts for sid in f.sources}
    for section in ("diagnostic_criteria", "secondary_causes", "differentials", "red_flags",
                    "treatments", "counseling"):
        assert getattr(spec, section), f"{pkg.name}: empty {section}"
    assert {t.line for t in spec.treatments} == {1, 2, 3}
    # nothing but the (empty) module the entry point names, next to data files
    code = [p for p in (pkg / "src" / module).rglob("*.py")]
    assert [p.name for p in code] == ["__init__.py"] and not code[0].read_text().strip()


@pytest.mark.parametrize("pkg", PACKAGES, ids=lambda p: p.name)
def test_example_benchmark_is_balanced(pkg: Path) -> None:
    (bench,) = (pkg / "src").glob("*/benchmark.jsonl")
    items = load_benchmark(bench)
    tasks = Counter(i.task for i in items)
    assert len(items) >= 60
    assert all(tasks[t] >= 18 for t in ("diagnosis", "treatment", "counseling")), tasks
    letters = Counter(i.answer for i in items)
    assert max(letters.values()) - min(letters.values()) <= 2, letters
    key_longest = sum(
        len(i.options[i.answer]) >= max(len(v) for v in i.options.values()) for i in items
    )
    assert key_longest <= 0.4 * len(items), f"key is the longest option in {key_longest} items"
