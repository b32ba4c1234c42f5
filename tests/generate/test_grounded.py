"""The offline generator: deterministic, balanced, grounded, varied, for any spec."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from raresupport import load_disease
from raresupport.cli import app
from raresupport.config import GenerateConfig
from raresupport.data import load_benchmark, load_vignettes
from raresupport.generate import get_generator
from raresupport.generate.dataset import generate_dataset
from raresupport.generate.grounded import TOPIC_TASK
from raresupport.generate.validate import jaccard, key_longest_fraction, shingles
from tests.helpers.specs import minimal_spec, write_disease


@pytest.fixture(scope="module")
def hh_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hh")
    res = CliRunner().invoke(app, ["generate", "hyperhidrosis", "--n", "180", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


def _all(out: Path):
    return load_vignettes(out / "train.jsonl") + load_vignettes(out / "val.jsonl")


def test_counts_balance_and_grounding(hh_data: Path) -> None:
    items = _all(hh_data)
    spec = load_disease("hyperhidrosis").spec
    assert len(items) == 180 and len({v.id for v in items}) == 180
    assert all(n >= 50 for n in Counter(v.task for v in items).values())
    for letter, n in Counter(v.answer for v in items).items():
        assert 0.2 <= n / len(items) <= 0.3, letter
    assert all(set(v.fact_ids) <= spec.fact_ids for v in items)
    assert key_longest_fraction(items) < 0.5
    manifest = json.loads((hh_data / "manifest.json").read_text())
    assert manifest["counts"]["accepted"] == 180 and manifest["generator"] == "grounded"
    val_tasks = Counter(v.task for v in load_vignettes(hh_data / "val.jsonl"))
    assert set(val_tasks) == {"diagnosis", "treatment", "counseling"}


def test_same_seed_same_bytes_other_seed_differs(hh_data: Path, tmp_path: Path) -> None:
    d = load_disease("hyperhidrosis")
    people = GenerateConfig().people_val  # what `raresupport generate` writes by default
    generate_dataset(d, get_generator("grounded"), 180, tmp_path / "again", seed=0,
                     people_val=people)
    for name in ("train.jsonl", "val.jsonl", "val_people.jsonl", "rejects.jsonl"):
        assert (tmp_path / "again" / name).read_bytes() == (hh_data / name).read_bytes()
    generate_dataset(d, get_generator("grounded"), 180, tmp_path / "other", seed=1)
    assert (tmp_path / "other/train.jsonl").read_bytes() != (hh_data / "train.jsonl").read_bytes()


def test_surface_variety(hh_data: Path) -> None:
    """No template dominates: cases are mostly distinct and rarely near-identical."""
    items = _all(hh_data)
    cases = [shingles(v.case) for v in items]
    assert len({v.case for v in items}) >= 0.95 * len(items)
    close = sum(
        jaccard(a, b) > 0.8 for i, a in enumerate(cases) for b in cases[i + 1 :]
    )
    assert close / (len(cases) * (len(cases) - 1) / 2) < 0.01
    assert len({v.question for v in items}) >= 15


def test_no_leakage_from_the_shipped_benchmark(hh_data: Path) -> None:
    bench = load_benchmark(load_disease("hyperhidrosis").benchmark_path)
    bsh = [shingles(b.question) for b in bench]
    for v in _all(hh_data):
        q = shingles(f"{v.case} {v.question}")
        assert max(jaccard(q, b) for b in bsh) < 0.6


def test_loads_with_datasets(hh_data: Path) -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset("json", data_files=str(hh_data / "train.jsonl"), split="train")
    rows = (hh_data / "train.jsonl").read_text(encoding="utf-8").count("\n")
    assert len(ds) == rows > 0 and set(ds[0]["options"]) == {"A", "B", "C", "D"}
    assert ds[0]["id"] == json.loads(open(hh_data / "train.jsonl").readline())["id"]


def test_second_disease_generates_through_the_dataset_writer(tmp_path: Path) -> None:
    """The test disease goes through validation and writing; its vocabulary is checked in
    ``tests/generate/grounded/test_vocabulary.py``."""
    d = load_disease(write_disease(tmp_path / "zebra"))
    m = generate_dataset(d, get_generator("grounded"), 30, tmp_path / "out")
    items = _all(tmp_path / "out")
    assert m.counts["accepted"] == 30 == len(items)
    assert {v.disease for v in items} == {"zebra-syndrome"}


def test_fact_recall_asks_every_key_before_repeating(tmp_path: Path) -> None:
    """Every ``Fact.keys`` span becomes a blanked question whose answer is that span."""
    spec = minimal_spec()
    keys = {"f.def": ["striped plaques"], "f.dx": ["3 months", "onset before 30"],
            "f.sec1": ["lithium"], "f.sec2": ["thyroid disease"], "f.sec3": ["travel abroad"],
            "f.tx1": ["Striping cream"], "f.tx2": ["light therapy"], "f.tx4": ["scarring"],
            "f.cn1": ["social embarrassment"], "f.cn2": ["low mood"]}
    for fact in spec["facts"]:
        words = keys.get(fact["id"], [])
        fact["statement"] = f"In zebra syndrome, {' and '.join(words) or 'nothing'} matters."
        fact["keys"] = words
    d = load_disease(write_disease(tmp_path / "zebra", spec))
    result = get_generator("grounded").generate(d, 120, ["diagnosis", "treatment", "counseling"], 0)
    recall = [v for v in result.vignettes if "____" in v.question]
    asked = {(v.fact_ids[0], v.options[v.answer]) for v in recall}
    assert asked == {(fid, k) for fid, ks in keys.items() for k in ks}
    for v in recall:
        statement = d.spec.fact(v.fact_ids[0]).statement
        key = v.options[v.answer]
        assert key not in v.question and v.question.count("____") == 1
        assert all(o not in statement for L, o in v.options.items() if L != v.answer)
        assert v.task == TOPIC_TASK[d.spec.fact(v.fact_ids[0]).topic]


def test_hyperhidrosis_facts_all_have_keys() -> None:
    """The shipped spec keys every fact, so offline data trains every fact."""
    facts = load_disease("hyperhidrosis").spec.facts
    assert all(1 <= len(f.keys) <= 3 for f in facts)
