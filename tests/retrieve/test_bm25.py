from __future__ import annotations

import pytest

from raresupport.errors import RegistryError
from raresupport.retrieve import Hit, Retriever, load_retriever, retrievers
from raresupport.retrieve.bm25 import BM25Retriever

#: general-medicine questions written for this test (not from any shipped benchmark)
GENERAL = [
    "A 62-year-old man has crushing central chest pain radiating to the left arm for an hour. "
    "Which investigation should be done first?",
    "What is the first-line treatment for primary hypertension in a 50-year-old woman?",
    "A child has a barking cough and inspiratory stridor at night. What is the likely diagnosis?",
    "Which vaccine is recommended for adults over 65 to prevent invasive pneumococcal disease?",
    "A woman on warfarin starts a course of antibiotics. What should be monitored more often?",
    # words that begin like a patient word of the spec ("under" ~ "underarm") must not open it
    "Which vaccine is given to children under 2 years of age?",
    "What is the underlying cause of iron-deficiency anaemia in a 60-year-old man?",
    "What fluid is in a saline drip given for dehydration?",
]


@pytest.mark.parametrize("name", retrievers.names() or ["bm25"])
def test_every_registered_retriever_follows_the_protocol(name, hh_spec):
    r = load_retriever(hh_spec, name)
    assert isinstance(r, Retriever)
    hits = r.retrieve("Which treatment is first-line for sweaty palms?", k=3)
    assert 1 <= len(hits) <= 3 and all(isinstance(h, Hit) for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert r.retrieve("", k=3) == []


def test_unknown_retriever_is_named():
    import raresupport.retrieve.bm25  # noqa: F401

    with pytest.raises(RegistryError, match="unknown retriever 'nope'; known: bm25"):
        retrievers.get("nope")


def test_key_phrase_finds_its_fact_in_top_3_for_90_percent(hh_spec):
    """Each fact key alone (no disease words, so the gate is off) ranks its fact in the top 3."""
    r = BM25Retriever(hh_spec, cutoff=0)
    pairs = [(f.id, key) for f in hh_spec.facts for key in f.keys]
    assert len(pairs) >= 100
    found = [fid in {x for h in r.retrieve(key, k=3) for x in h.passage.fact_ids}
             for fid, key in pairs]
    assert sum(found) / len(found) >= 0.90


@pytest.mark.parametrize("question", GENERAL)
def test_general_medicine_question_gets_no_notes(question, hh_spec):
    assert load_retriever(hh_spec).retrieve(question, k=3) == []
    # the gate, not an empty match, is what drops them
    assert BM25Retriever(hh_spec, cutoff=0).retrieve(question, k=3)


def test_patient_voiced_disease_question_gets_notes(hh_spec):
    hits = load_retriever(hh_spec).retrieve(
        "My armpits are always sweaty, even in winter. Is there a cream I can use?", k=3)
    assert hits


def test_index_is_cached_by_spec_hash_and_options(hh_spec, zebra_spec):
    a = load_retriever(hh_spec)
    assert load_retriever(hh_spec.model_copy(deep=True)) is a
    assert load_retriever(hh_spec, cutoff=0) is not a
    assert load_retriever(zebra_spec) is not a


def test_patient_words_open_the_gate_and_expand_to_the_spec_words(hh_spec):
    """``lay_terms``: a question in a patient's words gets the notes of the spec's words."""
    question = "My armpits are soaked all day. What can I try first?"
    assert hh_spec.lay_terms
    without = BM25Retriever(hh_spec.model_copy(update={"lay_terms": {}}))
    assert without.retrieve(question, k=3) == []  # no disease word in it: gated
    lay = BM25Retriever(hh_spec)
    assert lay.relevance(question) == 2
    hits = lay.retrieve(question, k=3)
    assert hits and any("axill" in h.passage.text.lower() for h in hits)
    ungated = BM25Retriever(hh_spec.model_copy(update={"lay_terms": {}}), cutoff=0)
    assert not any("axill" in h.passage.text.lower() for h in ungated.retrieve(question, k=3))


def test_a_lay_term_must_be_one_word(zebra_spec):
    from pydantic import ValidationError

    from raresupport.spec import DiseaseSpec

    data = zebra_spec.model_dump(mode="json", by_alias=True)
    for bad in ("lower arms", "fore-arms", "arm's"):
        data["lay_terms"] = {"forearms": ["arms", bad]}
        with pytest.raises(ValidationError, match=rf"forearms\[1\]: {bad!r} is not one word"):
            DiseaseSpec.model_validate(data)
