"""Diseases are found by registered id (entry points) or by folder, through one API."""

from __future__ import annotations

from pathlib import Path

import pytest

from raresupport import disease_names, load_disease
from raresupport.diseases import diseases
from raresupport.errors import RegistryError
from tests.helpers.specs import minimal_spec, write_disease


def test_reference_disease_is_registered_and_sourced() -> None:
    d = load_disease("hyperhidrosis")
    assert "hyperhidrosis" in disease_names()
    assert len(d.spec.facts) >= 80
    source_ids = {s.id for s in d.spec.sources}
    assert all(f.sources and set(f.sources) <= source_ids for f in d.spec.facts)
    assert d.benchmark_path and d.ood_path


def test_unknown_id_lists_known_ones() -> None:
    with pytest.raises(RegistryError, match="known: .*hyperhidrosis"):
        load_disease("no-such-disease")


def test_second_disease_from_a_folder(tmp_path: Path) -> None:
    folder = write_disease(tmp_path / "zebra")
    d = load_disease(folder)
    assert d.id == "zebra-syndrome" and d.root == folder
    assert load_disease(str(folder / "spec.yaml")).id == "zebra-syndrome"


def test_entry_point_disease_found_by_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A third-party distribution declaring ``raresupport.diseases`` is found by its id."""
    pkg = tmp_path / "zebra_pkg"
    write_disease(pkg, minimal_spec())
    (pkg / "__init__.py").write_text("")
    dist = tmp_path / "zebra_pkg-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zebra-pkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[raresupport.diseases]\nzebra = zebra_pkg\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    diseases.reload()
    try:
        assert "zebra" in disease_names()
        assert load_disease("zebra").spec.name == "Zebra syndrome"
    finally:
        diseases._items.pop("zebra", None)
        diseases.reload()
