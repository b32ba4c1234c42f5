"""Spec loading: valid specs load; broken ones name the file, field path and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raresupport.errors import SpecError, field_path
from raresupport.spec import DiseaseSpec, load_spec
from tests.helpers.specs import minimal_spec


def _write(tmp_path: Path, data: Any) -> Path:
    p = tmp_path / "spec.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def test_minimal_spec_loads(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path, minimal_spec()))
    assert isinstance(spec, DiseaseSpec)
    assert spec.treatments[0].drug_class == "topical"


def test_wrong_line_names_file_field_and_line(tmp_path: Path) -> None:
    data = minimal_spec()
    data["treatments"][3]["line"] = 4
    path = _write(tmp_path, data)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    msg = str(err.value)
    assert "spec.yaml" in msg
    assert "treatments[3].line: Input should be 1, 2 or 3" in msg
    line = int(msg.split("spec.yaml:")[1].split(":")[0])
    assert "line: 4" in path.read_text().splitlines()[line - 1]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["facts"][2].update(sources=["nope"]), "facts[2].sources[0]: unknown source"),
        (lambda d: d["red_flags"][0].update(fact_ids=["f.none"]), "red_flags[0].fact_ids[0]"),
        (lambda d: d["treatments"][0].update(sites=["elbow"]), "treatments[0].sites[0]"),
        (lambda d: d["facts"].append(dict(d["facts"][0])), "facts[14].id: duplicate id"),
        (lambda d: d.update(colour="blue"), "colour: Extra inputs are not permitted"),
        (lambda d: d["diagnostic_criteria"][0].update(min_supporting=9), "diagnostic_criteria[0]"),
    ],
)
def test_cross_reference_errors(tmp_path: Path, mutate, expected: str) -> None:
    data = minimal_spec()
    mutate(data)
    with pytest.raises(SpecError, match=None) as err:
        load_spec(_write(tmp_path, data))
    assert expected in str(err.value)


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    p = tmp_path / "spec.yaml"
    p.write_text("id: x\nname: [unclosed\nfacts: []\n")
    with pytest.raises(SpecError, match=r"spec.yaml:\d+: invalid YAML"):
        load_spec(p)


def _leaves(obj: Any, loc: tuple = ()) -> list[tuple]:
    if isinstance(obj, dict):
        return [x for k, v in obj.items() for x in _leaves(v, (*loc, k))]
    if isinstance(obj, list):
        return [x for i, v in enumerate(obj) for x in _leaves(v, (*loc, i))]
    return [loc]


LEAVES = _leaves(minimal_spec())


def _set(data: Any, loc: tuple, value: Any) -> None:
    for part in loc[:-1]:
        data = data[part]
    data[loc[-1]] = value


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(loc=st.sampled_from(LEAVES), bad=st.sampled_from([{"x": 1}, [[1]]]))
def test_any_broken_field_is_named(tmp_path: Path, loc: tuple, bad: Any) -> None:
    """A wrong-typed value anywhere gives a SpecError naming that exact field path."""
    data = minimal_spec()
    _set(data, loc, bad)
    with pytest.raises(SpecError) as err:
        load_spec(_write(tmp_path, data))
    msg = str(err.value)
    assert "spec.yaml" in msg and field_path(loc) in msg
    assert "Traceback" not in msg and "\n" not in msg


def test_a_key_given_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    """Plain YAML keeps the last of two equal keys, silently dropping a whole section."""
    text = yaml.safe_dump(minimal_spec(), sort_keys=False)
    p = tmp_path / "spec.yaml"
    p.write_text(text + "name: Other\n")
    line = len(text.splitlines()) + 1
    with pytest.raises(SpecError, match=rf"spec.yaml:{line}: duplicate key 'name'"):
        load_spec(p)


def test_an_age_range_upside_down_is_refused(tmp_path: Path) -> None:
    data = minimal_spec()
    data["vignette_hints"] = {"age_min": 80, "age_max": 70}
    with pytest.raises(SpecError, match=r"vignette_hints: age_min: 80 is above age_max 70"):
        load_spec(_write(tmp_path, data))


def test_an_entry_check_names_the_path_inside_the_entry(tmp_path: Path) -> None:
    data = minimal_spec()
    data["facts"][0]["keys"] = ["words the statement lacks"]
    with pytest.raises(SpecError, match=r"spec.yaml:\d+: facts\[0\]\.keys\[0\]: 'words"):
        load_spec(_write(tmp_path, data))
