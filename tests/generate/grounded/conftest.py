"""Shared fixtures: items generated for the reference disease and for the test disease."""

from __future__ import annotations

from pathlib import Path

import pytest

from raresupport import load_disease
from raresupport.data.vignette import TASKS
from raresupport.generate import get_generator
from tests.helpers.specs import minimal_spec, write_disease


def keyed_zebra_spec() -> dict:
    """The test disease with one key per fact, so fact-recall items are generated too."""
    spec = minimal_spec()
    for i, fact in enumerate(spec["facts"]):
        fact["keys"] = [f"number {i}"]
    return spec


@pytest.fixture(scope="session")
def zebra(tmp_path_factory: pytest.TempPathFactory):
    return load_disease(write_disease(tmp_path_factory.mktemp("zebra"), keyed_zebra_spec()))


@pytest.fixture(scope="session")
def hh():
    return load_disease("hyperhidrosis")


@pytest.fixture(scope="session")
def hh_items(hh):
    return get_generator("grounded").generate(hh, 600, TASKS, 0).vignettes


@pytest.fixture(scope="session")
def zebra_items(zebra):
    return get_generator("grounded").generate(zebra, 600, TASKS, 0).vignettes


@pytest.fixture
def tmp_disease(tmp_path: Path):
    """Write a spec dict as a disease folder and load it."""
    return lambda spec: load_disease(write_disease(tmp_path / "d", spec))
