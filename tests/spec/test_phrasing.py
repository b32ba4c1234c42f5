"""Spec wording fields: defaults for any disease, placeholders checked, every field described."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from raresupport.errors import SpecError
from raresupport.spec import DiseaseSpec, Phrasing, load_spec
from tests.helpers.specs import minimal_spec


def _load(tmp_path: Path, data: dict) -> DiseaseSpec:
    p = tmp_path / "spec.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_spec(p)


def test_defaults_name_no_disease() -> None:
    ph = Phrasing()
    assert ph.complaint == "symptoms"
    text = ph.at_site.format(intensity=ph.intensity[0], complaint=ph.complaint, sites="shins")
    assert text == "troublesome symptoms affecting the shins"


def test_unknown_placeholder_names_the_field(tmp_path: Path) -> None:
    data = minimal_spec()
    data["phrasing"] = {"at_site": "{severity} rash of the {sites}"}
    with pytest.raises(SpecError, match=r"phrasing.*at_site: unknown placeholder \{severity\}"):
        _load(tmp_path, data)
    data["phrasing"] = {"questions": {"cause": ["What caused the {symptom}?"]}}
    with pytest.raises(SpecError, match=r"cause: unknown placeholder \{symptom\}"):
        _load(tmp_path, data)


def test_site_names_must_be_sites(tmp_path: Path) -> None:
    data = minimal_spec()
    data["phrasing"] = {"site_names": {"elbows": "the elbow creases"}}
    with pytest.raises(SpecError, match="phrasing.site_names: 'elbows' is not one of sites"):
        _load(tmp_path, data)


def test_counseling_kind_is_checked(tmp_path: Path) -> None:
    data = minimal_spec()
    data["counseling"][0]["kind"] = "pep-talk"
    with pytest.raises(SpecError, match=r"counseling\[0\]\.kind"):
        _load(tmp_path, data)


def _models(model: type[BaseModel], seen: set) -> None:
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        for arg in (field.annotation, *getattr(field.annotation, "__args__", ())):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                _models(arg, seen)


def test_every_spec_field_has_a_description() -> None:
    """The docs site builds the spec reference from the schema: no field may go unexplained."""
    models: set = set()
    _models(DiseaseSpec, models)
    assert len(models) >= 12
    missing = [f"{m.__name__}.{name}" for m in models
               for name, f in m.model_fields.items() if not (f.description or "").strip()]
    assert missing == []
