from __future__ import annotations

import pytest

from raresupport.chat import mcq_messages, notes_block
from raresupport.data.benchmark import MCQItem
from raresupport.generate.grounded import GroundedGenerator
from raresupport.retrieve import Passage, RetrievalConfig, load_retriever
from raresupport.retrieve.notes import (
    FULL,
    GOLD_REMOVED,
    NO_NOTES,
    note_hits,
    options_query,
    query_of,
    raft_notes,
    raft_roles,
    recall_at_k,
    with_notes,
)


def _p(i: int, text: str, *fids: str) -> Passage:
    return Passage(id=f"fact:{i}", kind="fact", text=text, fact_ids=fids, source_ids=("s",))


def test_notes_block_numbers_notes_with_fact_ids_and_cuts_long_text():
    block = notes_block([_p(1, "Short note.", "a.b"), _p(2, "word " * 100, "c", "d", "e")],
                        max_chars=40)
    lines = block.splitlines()
    assert lines[0] == "Notes:"
    assert lines[1] == "[1] (a.b) Short note."
    assert lines[2].startswith("[2] (c) word") and lines[2].endswith("...")
    assert len(lines[2]) <= len("[2] (c) ") + 40
    assert notes_block([]) == ""


def test_item_notes_render_above_the_question_in_both_styles():
    item = MCQItem(id="q", task="diagnosis", question="Which?", options={"A": "x", "B": "y"},
                   answer="A")
    noted = item.model_copy(update={"notes": notes_block([_p(1, "A fact.", "f.1")])})
    for style in ("letter", "cloze"):
        plain = mcq_messages(item, style)[1]["content"]
        user = mcq_messages(noted, style)[1]["content"]
        assert user == "Notes:\n[1] (f.1) A fact.\n\n" + plain
    assert "notes" not in noted.model_dump()  # never written into a benchmark file


@pytest.fixture(scope="module")
def vignettes(hh_spec):
    return GroundedGenerator().generate(hh_spec, 120, ("diagnosis", "treatment", "counseling"),
                                        seed=3).vignettes


@pytest.mark.parametrize("gold, none", [(0.2, 0.2), (0.5, 0.1), (0.0, 0.0)])
def test_raft_shares_are_exactly_as_configured(vignettes, gold, none):
    cfg = RetrievalConfig(gold_removed_share=gold, no_notes_share=none)
    roles = raft_roles([v.id for v in vignettes], cfg, seed=1)
    n = len(vignettes)
    assert sum(r == GOLD_REMOVED for r in roles.values()) == round(n * gold)
    assert sum(r == NO_NOTES for r in roles.values()) == round(n * none)
    assert raft_roles([v.id for v in reversed(vignettes)], cfg, seed=1) == roles


def test_raft_notes_drop_gold_passages_and_keep_them_otherwise(hh_spec, vignettes):
    cfg = RetrievalConfig(gold_removed_share=0.3, no_notes_share=0.2)
    retriever = load_retriever(hh_spec)
    notes = raft_notes(vignettes, retriever, cfg, seed=0)
    by_id = {v.id: v for v in vignettes}
    gold_in_full = 0
    for vid, (role, block) in notes.items():
        cited = {fid for line in block.splitlines()[1:]
                 for fid in line.split(") ", 1)[0].lstrip("[0123456789] (").split(", ")}
        own = set(by_id[vid].fact_ids)
        if role == NO_NOTES:
            assert block == ""
        elif role == GOLD_REMOVED:
            assert block.startswith("Notes:\n[1] ") and not own & cited
            assert len(block.splitlines()) == 1 + cfg.k
        else:
            assert role == FULL and block.startswith("Notes:\n[1] ")
            gold_in_full += bool(own & cited)
    assert gold_in_full > 0


def test_recall_at_k_and_with_notes(hh_spec, vignettes):
    retriever = load_retriever(hh_spec)
    rec = recall_at_k(vignettes, retriever, RetrievalConfig(k=3))
    assert rec["n"] == len(vignettes) and 0.5 <= rec["recall"] <= 1.0
    assert set(rec["by_task"]) == {"diagnosis", "treatment", "counseling"}
    items = [v.to_mcq() for v in vignettes[:5]]
    noted = with_notes(items, retriever, RetrievalConfig())
    assert all(i.notes.startswith("Notes:\n[1] ") for i in noted)
    assert with_notes(items, retriever, RetrievalConfig(k=0)) == items


def test_option_notes_come_from_the_question_with_all_its_options(hh_spec, vignettes):
    retriever = load_retriever(hh_spec)
    for v in vignettes[:20]:
        own = retriever.retrieve(query_of(v), k=5)
        with_options = retriever.retrieve(options_query(v), k=5)
        for n_opt in (0, 1, 2):
            hits = note_hits(retriever, v, RetrievalConfig(k=2, option_notes=n_opt))
            ids = [h.passage.id for h in hits]
            assert len(ids) == len(set(ids)) == 2
            # the question's best notes come first, then the best new ones from the options
            assert ids[: 2 - n_opt] == [h.passage.id for h in own[: 2 - n_opt]]
            new = [h.passage.id for h in with_options if h.passage.id not in ids[: 2 - n_opt]]
            assert ids[2 - n_opt :] == new[:n_opt]
    assert all(o in options_query(v) for o in v.options.values())


def test_options_never_open_the_relevance_gate(hh_spec):
    retriever = load_retriever(hh_spec)
    item = MCQItem(id="g", task="general", question="Which drug treats acute gout first?",
                   options={"A": "Colchicine", "B": "Botulinum toxin for axillary sweating",
                            "C": "Iontophoresis", "D": "Aluminium chloride"}, answer="A")
    assert retriever.retrieve(options_query(item), k=2)  # the options alone would get notes
    assert note_hits(retriever, item, RetrievalConfig(option_notes=2)) == []
    assert with_notes([item], retriever, RetrievalConfig())[0].notes == ""
