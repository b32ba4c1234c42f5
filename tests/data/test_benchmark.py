"""The interchange format: shipped files are valid; any broken line names file, line, field."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raresupport import load_disease
from raresupport.data import load_benchmark
from raresupport.errors import BenchmarkError
from raresupport.generate.validate import key_longest_fraction

GOOD = {"id": "q1", "task": "general", "question": "Q?", "options": {"A": "x", "B": "y"},
        "answer": "B"}


def test_shipped_benchmark_is_balanced() -> None:
    d = load_disease("hyperhidrosis")
    items = load_benchmark(d.benchmark_path)
    tasks = Counter(i.task for i in items)
    assert len(items) >= 150  # +-8-point intervals instead of +-12 (issue 11)
    assert all(tasks[t] >= 50 for t in ("diagnosis", "treatment", "counseling"))
    for letter, count in Counter(i.answer for i in items).items():
        assert 0.2 <= count / len(items) <= 0.3, letter
    assert all(len(i.options) == 4 for i in items)
    assert key_longest_fraction(items) <= 0.35


def test_shipped_ood_control() -> None:
    items = load_benchmark(load_disease("hyperhidrosis").ood_path)
    assert len(items) >= 60 and {i.task for i in items} == {"general"}
    for letter, count in Counter(i.answer for i in items).items():
        assert 0.2 <= count / len(items) <= 0.3, letter
    assert key_longest_fraction(items) <= 0.35
    text = " ".join(" ".join([i.question, *i.options.values()]) for i in items).lower()
    # a true control: nothing about the reference disease
    assert not any(w in text for w in ("sweat", "hidrosis", "diaphore", "perspir"))


def test_two_to_six_options(tmp_path: Path) -> None:
    six = dict(GOOD, options={k: k.lower() for k in "ABCDEF"}, answer="F")
    p = tmp_path / "b.jsonl"
    p.write_text(json.dumps(GOOD) + "\n\n" + json.dumps(dict(six, id="q2")) + "\n")
    assert [len(i.options) for i in load_benchmark(p)] == [2, 6]


MUTATIONS = {
    "answer": lambda d: d.update(answer="Z"),
    "options": lambda d: d.update(options=["x", "y"]),
    "task": lambda d: d.pop("task"),
    "question": lambda d: d.update(question=None),
    "id": lambda d: d.update(id=""),
}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n_good=st.integers(0, 6), where=st.integers(0, 6), field=st.sampled_from(sorted(MUTATIONS)))
def test_broken_line_is_named(tmp_path: Path, n_good: int, where: int, field: str) -> None:
    lines = [json.dumps(dict(GOOD, id=f"q{i}")) for i in range(n_good)]
    bad = dict(GOOD, id="bad")
    MUTATIONS[field](bad)
    where = min(where, len(lines))
    lines.insert(where, json.dumps(bad))
    p = tmp_path / "bench.jsonl"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(BenchmarkError) as err:
        load_benchmark(p)
    assert f"bench.jsonl:{where + 1}: " in str(err.value)
    assert field in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"id": "q1", "task"', "bench.jsonl:1: invalid JSON"),
        ("[1, 2]", "bench.jsonl:1: expected a JSON object"),
        (json.dumps(GOOD) + "\n" + json.dumps(GOOD), "bench.jsonl:2: id: duplicate id 'q1'"),
    ],
)
def test_structural_errors(tmp_path: Path, text: str, expected: str) -> None:
    p = tmp_path / "bench.jsonl"
    p.write_text(text)
    with pytest.raises(BenchmarkError, match=None) as err:
        load_benchmark(p)
    assert expected in str(err.value)


def test_a_vignette_file_loads_as_a_benchmark_with_its_case(tmp_path) -> None:
    """Generated train/val files are benchmarks too; the case must not be dropped."""
    row = {"id": "v1", "disease": "x", "task": "diagnosis", "case": "A 30-year-old has X.",
           "question": "What is it?", "options": {"A": "a", "B": "b"}, "answer": "A"}
    path = tmp_path / "val.jsonl"
    path.write_text(json.dumps(row) + "\n")
    (item,) = load_benchmark(path)
    assert item.question == "A 30-year-old has X.\n\nWhat is it?"
    row.pop("case")
    path.write_text(json.dumps(row) + "\n")
    assert load_benchmark(path)[0].question == "What is it?"
