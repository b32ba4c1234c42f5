"""Spec fields for the assistant: red-flag patterns and the per-disease notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from raresupport.errors import SpecError
from raresupport.spec import load_spec
from tests.helpers.specs import minimal_spec, write_disease


def test_defaults_name_the_disease(tmp_path: Path) -> None:
    spec = load_spec(write_disease(tmp_path) / "spec.yaml")
    assert spec.red_flags[0].patterns == []
    assert "{disease}" in spec.assistant.not_a_diagnosis


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("not_a_diagnosis", "Not a {diagnosis} for {disease}.", "assistant.not_a_diagnosis"),
        ("urgent_referral", "short", "assistant.urgent_referral"),
    ],
)
def test_bad_assistant_text_names_the_field(tmp_path: Path, field, value, where) -> None:
    data = minimal_spec()
    data["assistant"] = {field: value}
    with pytest.raises(SpecError, match=rf"spec.yaml:\d+: {where}"):
        load_spec(write_disease(tmp_path, data) / "spec.yaml")


def test_a_pattern_without_words_is_refused(tmp_path: Path) -> None:
    data = minimal_spec()
    data["red_flags"][0]["patterns"] = ["one side", "!!"]
    with pytest.raises(SpecError, match=r"red_flags\[0\]\.patterns"):
        load_spec(write_disease(tmp_path, data) / "spec.yaml")


def test_every_hyperhidrosis_red_flag_has_patterns(hyperhidrosis) -> None:
    assert all(flag.patterns for flag in hyperhidrosis.spec.red_flags)
