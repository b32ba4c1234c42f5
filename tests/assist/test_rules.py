"""The rule layer finds the spec's red-flag phrases in what patients actually write."""

from __future__ import annotations

import pytest

from raresupport.assist import match_red_flags
from raresupport.spec import DiseaseSpec
from tests.helpers.specs import minimal_spec


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("I get night sweats and I've lost weight", {"night-sweats", "weight-loss-fever"}),
        ("I wake up completely soaked and my heart is racing", {"night-sweats", "paroxysms"}),
        ("Only my left armpit sweats", {"asymmetric"}),
        ("It all started after a NEW MEDICATION for my mood", {"new-drug"}),
        ("I lost a lot of weight this year", {"weight-loss-fever"}),
        ("My palms sweat when I give presentations", set()),
        ("What is the best antiperspirant for my armpits?", set()),
    ],
)
def test_red_flags_in_patient_words(hyperhidrosis, message, expected) -> None:
    assert {h.id for h in match_red_flags(hyperhidrosis.spec, message)} == expected


def test_hit_carries_the_spec_action_and_the_matched_phrase(hyperhidrosis) -> None:
    (hit,) = match_red_flags(hyperhidrosis.spec, "drenched sheets every night")
    flag = next(f for f in hyperhidrosis.spec.red_flags if f.id == "night-sweats")
    assert (hit.action, hit.finding, hit.fact_ids) == (flag.action, flag.finding,
                                                       tuple(flag.fact_ids))  # fmt: skip
    assert hit.matched == ("drenched sheets",)


def test_patterns_are_the_only_source_of_rules() -> None:
    data = minimal_spec()
    spec = DiseaseSpec.model_validate(data)
    assert match_red_flags(spec, "stripes on one side only") == []  # no patterns, no rule
    data["red_flags"][0]["patterns"] = ["one side"]
    spec = DiseaseSpec.model_validate(data)
    assert [h.id for h in match_red_flags(spec, "my stripes are on one side")] == ["rf1"]
