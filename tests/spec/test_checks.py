"""The spec's safety rules: whole-word contraindication matching and question polarity."""

from __future__ import annotations

from raresupport.spec import DiseaseSpec
from raresupport.spec.checks import (
    asks_to_avoid,
    contraindications_in,
    mentions,
    treatment_named,
)
from tests.helpers.specs import minimal_spec


def test_mentions_whole_words_ignoring_case() -> None:
    assert mentions("Past history: Glaucoma.", "glaucoma")
    assert mentions("a cardiac pacemaker fitted", "pacemaker")
    assert not mentions("Past history: asthmatic bronchitis.", "asthma")


def test_contraindications_in_names_what_the_text_rules_out() -> None:
    spec = DiseaseSpec.model_validate(minimal_spec())
    assert treatment_named(spec, " stripe light THERAPY ").id == "t2"
    assert contraindications_in(spec, "Stripe light therapy", "Has a pacemaker.") == ["pacemaker"]
    assert contraindications_in(spec, "Stripe light therapy", "Has glaucoma.") == []
    assert contraindications_in(spec, "Not a treatment", "Has a pacemaker.") == []


def test_question_polarity() -> None:
    assert asks_to_avoid("Which option is contraindicated here?")
    assert asks_to_avoid("Which treatment should be avoided in this patient?")
    assert asks_to_avoid("Which treatment should not be used?")
    assert not asks_to_avoid("What is the most appropriate next treatment?")
