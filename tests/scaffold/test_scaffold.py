"""`new-disease` writes an installable disease package whose spec validates and generates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from raresupport.cli import app
from raresupport.data import load_benchmark
from raresupport.diseases import diseases, load_disease
from raresupport.generate import get_generator
from raresupport.generate.dataset import generate_dataset
from raresupport.scaffold import ScaffoldError, disease_id_from_name, new_disease

runner = CliRunner()
tomllib = pytest.importorskip("tomllib")  # Python >= 3.11


def test_scaffold_validates_and_generate_runs(tmp_path: Path) -> None:
    s = new_disease("Hailey-Hailey disease", tmp_path / "hhd")
    assert (s.id, s.package) == ("hailey-hailey-disease", "raresupport_hailey_hailey_disease")
    d = load_disease(s.data_dir)  # the same loader every command uses
    assert d.spec.name == "Hailey-Hailey disease" and d.spec.id == s.id
    assert all(f.keys for f in d.spec.facts)
    items = load_benchmark(d.benchmark_path)
    assert {i.task for i in items} == {"diagnosis", "treatment", "counseling"}
    assert (d.templates_dir / "vignette.jinja2").is_file()

    m = generate_dataset(d, get_generator("grounded"), 24, tmp_path / "data", seed=0)
    assert m.counts["train"] + m.counts["val"] == 24
    assert set(m.counts["by_task"]) == {"diagnosis", "treatment", "counseling"}


def test_entry_point_makes_the_package_findable_by_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = new_disease("Zebra stripe syndrome", tmp_path / "zss")
    meta = tomllib.loads((s.root / "pyproject.toml").read_text())
    eps = meta["project"]["entry-points"]["raresupport.diseases"]
    assert eps == {s.id: s.package}
    data = meta["tool"]["setuptools"]["package-data"][s.package]
    assert {"spec.yaml", "*.jsonl", "templates/*.jinja2"} <= set(data)
    # what `pip install -e` would give: the package importable plus its entry-point metadata
    dist = tmp_path / "site" / f"raresupport_{s.package}-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: raresupport-{s.id}\n"
                                   "Version: 0.1.0\n")
    (dist / "entry_points.txt").write_text(
        "[raresupport.diseases]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items())
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.syspath_prepend(str(s.root / "src"))
    diseases.reload()
    try:
        assert load_disease(s.id).root.resolve() == s.data_dir.resolve()
    finally:
        diseases._items.pop(s.id, None)
        diseases.reload()


def test_refuses_to_overwrite_and_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(ScaffoldError, match="not empty"):
        new_disease("Zebra syndrome", out)
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    with pytest.raises(ScaffoldError, match="name"):
        new_disease("Zebra: syndrome", tmp_path / "other")
    with pytest.raises(ScaffoldError, match="id"):
        new_disease("Zebra syndrome", tmp_path / "other", disease_id="Zebra Syndrome")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]  # no staging folder left


def test_empty_out_folder_is_used(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    s = new_disease("Zebra syndrome", tmp_path / "empty", disease_id="zebra")
    assert s.id == "zebra" and (s.data_dir / "spec.yaml").is_file()


def test_names_with_non_ascii_letters_and_apostrophes(tmp_path: Path) -> None:
    s = new_disease("Behçet's disease", tmp_path / "bd")
    assert s.id == "behcets-disease"
    assert load_disease(s.data_dir).spec.name == "Behçet's disease"
    stub = [json.loads(line) for line in (s.data_dir / "benchmark.jsonl").read_text().splitlines()]
    assert any("Behçet's disease" in row["options"].values() for row in stub)


@given(st.from_regex(r"\A[A-Za-zÀ-ÿ0-9][A-Za-zÀ-ÿ0-9 '(),.-]{0,40}\Z"))
def test_derived_ids_are_valid_or_refused(name: str) -> None:
    did = disease_id_from_name(name)
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert did == "" or (did[0].isalnum() and set(did) <= allowed)


def test_cli_prints_the_next_three_commands(tmp_path: Path) -> None:
    args = ["new-disease", "Hailey-Hailey disease", "--out", str(tmp_path / "h")]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    lines = [ln.strip() for ln in res.output.splitlines()]
    assert any(ln.startswith("1. raresupport spec validate") for ln in lines)
    assert any(ln.startswith("2. pip install -e") for ln in lines)
    assert any(ln.startswith("3. raresupport generate hailey-hailey-disease") for ln in lines)
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "error:" in again.output and "Traceback" not in again.output
