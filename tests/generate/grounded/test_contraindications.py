"""Never a contraindicated treatment as the key for a patient whose history rules it out."""

from __future__ import annotations

from raresupport.data.vignette import TASKS, Provenance, Vignette
from raresupport.generate import get_generator
from raresupport.generate.validate import validate_vignettes
from raresupport.spec.checks import contraindications_in
from tests.generate.grounded.conftest import keyed_zebra_spec


def _asthma_everywhere_spec() -> dict:
    """Half the cases mention asthma, and asthma rules out the only first-line cream."""
    spec = keyed_zebra_spec()
    spec["vignette_hints"]["comorbidities"] = ["asthma", "well-controlled asthma"]
    spec["treatments"][0]["contraindications"] = ["asthma"]
    return spec


def test_no_generated_key_is_contraindicated_by_its_case(tmp_disease, hh_items, hh) -> None:
    d = tmp_disease(_asthma_everywhere_spec())
    items = get_generator("grounded").generate(d, 600, TASKS, 0).vignettes
    for spec, vs in ((d.spec, items), (hh.spec, hh_items)):
        for v in vs:
            if "avoid" not in v.tags:
                assert not contraindications_in(spec, v.options[v.answer], v.case), v
    # the rule was exercised: asthma cases exist, and the cream is the key elsewhere
    assert any("asthma" in v.case for v in items)
    assert any(v.options[v.answer] == "Striping cream" for v in items)


def test_avoid_items_have_exactly_one_contraindicated_option(tmp_disease) -> None:
    d = tmp_disease(_asthma_everywhere_spec())
    items = [v for v in get_generator("grounded").generate(d, 400, TASKS, 1).vignettes
             if "avoid" in v.tags]
    assert items
    for v in items:
        ruled_out = [o for o in v.options.values() if contraindications_in(d.spec, o, v.case)]
        assert ruled_out == [v.options[v.answer]]


def test_validation_rejects_a_contraindicated_key(tmp_disease) -> None:
    d = tmp_disease(_asthma_everywhere_spec())
    base = dict(
        id="x1", disease=d.spec.id, task="treatment", question="What should be offered next?",
        case="A 30-year-old woman has stripes on the forearms. Past history: asthma.",
        options={"A": "Striping cream", "B": "Oral destriping pills", "C": "Stripe surgery",
                 "D": "Stripe light therapy"},
        answer="A", rationale="Some rationale here.", fact_ids=["f.tx1"],
        provenance=Provenance(generator="test"),
    )
    bad = Vignette(**base)
    fine = Vignette(**{**base, "id": "x2", "answer": "B"})
    avoid = Vignette(**{**base, "id": "x3", "question": "Which treatment should be avoided?"})
    ok, rejects = validate_vignettes([bad, fine, avoid], d.spec)
    assert [v.id for v in ok] == ["x2", "x3"]
    assert rejects[0].reason == "key is contraindicated by the history (asthma)"
