"""Counseling: several structures, every kind of counseling point used, grounded in facts."""

from __future__ import annotations

import random
from collections import Counter

from raresupport.data.vignette import TASKS
from raresupport.generate import get_generator
from raresupport.generate.grounded import counseling
from raresupport.generate.grounded.recall import BLANK


def _structured(items):
    return [v for v in items if v.task == "counseling" and BLANK not in v.question]


def test_every_counseling_kind_is_asked_with_its_own_stems(hh, hh_items) -> None:
    spec = hh.spec
    stems = spec.phrasing.questions.counseling
    by_key = {p.recommended: p for p in spec.counseling}
    kinds = Counter()
    for v in _structured(hh_items):
        point = by_key.get(v.options[v.answer])
        if point is None:
            continue  # a safety-netting item
        kinds[point.kind] += 1
        assert v.question in stems[point.kind]
        assert set(point.fact_ids) == set(v.fact_ids)
        assert set(v.options.values()) - {point.recommended} <= set(point.avoid)
    assert set(kinds) == {p.kind for p in spec.counseling}


def test_kinds_are_drawn_evenly(hh) -> None:
    """No kind is starved: the rarest has 1-2 points, the largest 5, yet draws are even."""
    rng = random.Random(0)
    by_key = {p.recommended: p.kind for p in hh.spec.counseling}
    kinds = Counter(by_key[counseling.counseling_case(rng, hh.spec)["key"]] for _ in range(2800))
    assert len(kinds) == len(set(by_key.values()))
    assert min(kinds.values()) >= 0.8 * max(kinds.values())


def test_safety_netting_items_key_a_red_flag_against_ordinary_features(hh, hh_items) -> None:
    spec = hh.spec
    findings = {f.finding: f for f in spec.red_flags}
    ordinary = set(spec.diagnostic_criteria[0].supporting)
    items = [v for v in _structured(hh_items) if v.options[v.answer] in findings]
    assert len(items) >= 10
    for v in items:
        flag = findings[v.options[v.answer]]
        assert v.fact_ids == sorted(set(flag.fact_ids))
        assert set(v.options.values()) - {flag.finding} <= ordinary


def test_counseling_is_half_recall_half_structures(hh_items) -> None:
    items = [v for v in hh_items if v.task == "counseling"]
    recall = sum(BLANK in v.question for v in items)
    assert 0.35 <= recall / len(items) <= 0.65


def test_a_spec_without_counseling_points_still_gets_safety_netting(tmp_disease) -> None:
    from tests.generate.grounded.conftest import keyed_zebra_spec

    spec = keyed_zebra_spec()
    spec["counseling"] = []
    d = tmp_disease(spec)
    assert counseling.counseling_case(random.Random(0), d.spec) is None
    items = get_generator("grounded").generate(d, 60, TASKS, 0).vignettes
    assert any(v.task == "counseling" and BLANK not in v.question for v in items)
