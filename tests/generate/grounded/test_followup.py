"""Multi-visit cases: a first visit, then a later one with a change, answered from the spec."""

from __future__ import annotations

from raresupport.generate.grounded.treatment import for_site


def _followups(items):
    return [v for v in items if "followup" in v.tags]


def test_followups_have_two_visits_and_every_kind_of_change(hh, hh_items, zebra_items) -> None:
    for items in (hh_items, zebra_items):
        fu = _followups(items)
        assert 0.03 <= len(fu) / len(items) <= 0.2
        assert all("Visit 1:" in v.case and "Visit 2:" in v.case for v in fu)
        assert {v.task for v in fu} == {"diagnosis", "treatment"}
    spec = hh.spec
    actions = {f.action for f in spec.red_flags}
    effects = {a for t in spec.treatments for a in t.adverse_effects}
    keys = [v.options[v.answer] for v in _followups(hh_items)]
    assert any(k in actions for k in keys)
    assert any(k in effects for k in keys)
    assert any(k in {t.name for t in spec.treatments} for k in keys)


def test_treatment_failure_keys_a_second_line_option_for_that_site(hh, hh_items) -> None:
    spec = hh.spec
    names = {t.name: t for t in spec.treatments}
    failures = [v for v in _followups(hh_items) if v.options[v.answer] in names]
    assert failures
    for v in failures:
        key = names[v.options[v.answer]]
        assert key.line == 2
        site = next(s for s in key.sites if f"diagnoses primary focal hyperhidrosis of the "
                    f"{spec.phrasing.site_names.get(s, s)} " in v.case)
        untried = {t.name for t in for_site(spec, site, 1)[1:]} | {
            t.name for t in for_site(spec, site, 2)}
        assert not (set(v.options.values()) - {key.name}) & untried
