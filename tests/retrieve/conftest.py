from __future__ import annotations

import pytest

from raresupport.diseases import load_disease
from raresupport.spec.models import DiseaseSpec
from tests.helpers.specs import minimal_spec


@pytest.fixture(scope="session")
def hh_spec() -> DiseaseSpec:
    return load_disease("hyperhidrosis").spec


@pytest.fixture
def zebra_spec() -> DiseaseSpec:
    return DiseaseSpec.model_validate(minimal_spec())
