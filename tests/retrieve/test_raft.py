"""Retrieval-aware training data: every training example renders its notes block."""

from __future__ import annotations

import json

import pytest

from raresupport.data.vignette import load_vignettes
from raresupport.generate.dataset import generate_dataset
from raresupport.generate.grounded import GroundedGenerator
from raresupport.retrieve import RetrievalConfig, load_retriever
from raresupport.retrieve.notes import write_raft_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, hyperhidrosis):
    out = tmp_path_factory.mktemp("data")
    generate_dataset(hyperhidrosis, GroundedGenerator(), 80, out, seed=5, val_fraction=0.25)
    return out


def test_training_examples_carry_the_notes_block(dataset, tmp_path, hh_spec, tiny_model_dir):
    from transformers import AutoTokenizer

    from raresupport.train.format import build_examples

    cfg = RetrievalConfig(gold_removed_share=0.25, no_notes_share=0.25)
    summary = write_raft_dataset(dataset, tmp_path, load_retriever(hh_spec), cfg, seed=0)
    train = load_vignettes(tmp_path / "train.jsonl")
    n = len(train)
    assert summary["n_train"] == n
    assert summary["roles"] == {"full": n - 2 * round(n * 0.25),
                                "gold_removed": round(n * 0.25), "no_notes": round(n * 0.25)}
    assert summary["val_recall"]["n"] > 0 and 0 < summary["val_recall"]["recall"] <= 1
    assert json.loads((tmp_path / "retrieval.json").read_text()) == summary

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    examples, skipped = build_examples(tok, train, styles=("cloze",), max_length=1024)
    assert not skipped and len(examples) == n
    with_block = 0
    for v, ex in zip(train, examples, strict=True):
        text = tok.decode(ex.input_ids)
        if v.notes:
            with_block += 1
            assert v.notes.startswith("Notes:\n[1] (")
            assert v.notes.splitlines()[1] in text  # the block is what the model sees
        else:
            assert "Notes:" not in text
    # everything not drawn "no notes" got notes (the gate lets every generated item through)
    assert with_block >= n - round(n * 0.25) - 2
