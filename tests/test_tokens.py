"""tokens.py: BOS once, pad ids, padding, and one prompt/answer split for training and scoring."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from raresupport.chat import mcq_messages, render_prompt
from raresupport.data.benchmark import MCQItem
from raresupport.evaluate.hf import letter_token_ids
from raresupport.tokens import (
    IGNORE_INDEX,
    Example,
    answer_ids,
    collate,
    encode_text,
    left_pad,
    pad_id,
    right_pad,
    split_ids,
)
from raresupport.train.format import encode_mcq

ITEM = MCQItem(
    id="q1", task="treatment", question="First-line treatment for sweaty palms?",
    options={"A": "Oral steroids", "B": "Surgery", "C": "Aluminium chloride antiperspirant"},
    answer="C",
)  # fmt: skip


class CharTokenizer:
    """One id per character; adds BOS (id 1) when asked, like a Llama tokenizer."""

    bos_token = "<s>"

    def __call__(self, text, add_special_tokens=True, return_offsets_mapping=False):
        body, offsets = [], []
        i = 0
        while i < len(text):
            if text.startswith("<s>", i):
                body.append(1)
                offsets.append((i, i + 3))
                i += 3
            else:
                body.append(ord(text[i]))
                offsets.append((i, i + 1))
                i += 1
        if add_special_tokens:
            body, offsets = [1, *body], [(0, 0), *offsets]
        out = {"input_ids": body}
        if return_offsets_mapping:
            out["offset_mapping"] = offsets
        return out


def test_bos_exactly_once() -> None:
    tok = CharTokenizer()
    assert encode_text(tok, "hi") == [1, ord("h"), ord("i")]
    assert encode_text(tok, "<s>hi") == [1, ord("h"), ord("i")]  # the template wrote it


@pytest.mark.parametrize(
    ("pad", "eos", "expected"),
    [(0, 7, 0), (None, 0, 0), (None, 7, 7), (3, None, 3), (None, None, 0)],
)
def test_pad_id_keeps_zero(pad, eos, expected) -> None:
    assert pad_id(SimpleNamespace(pad_token_id=pad, eos_token_id=eos)) == expected


def test_left_pad_puts_last_tokens_in_the_last_column_with_positions() -> None:
    ids, mask, pos = left_pad([[5, 6, 7], [8]], pad=0)
    assert ids.tolist() == [[5, 6, 7], [0, 0, 8]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert pos.tolist() == [[0, 1, 2], [0, 0, 0]]


def test_right_pad_and_collate_pad_labels_with_ignore_index() -> None:
    ids, mask = right_pad([[5, 6, 7], [8]], pad=9)
    assert ids.tolist() == [[5, 6, 7], [8, 9, 9]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    batch = collate([Example([5, 6, 7], [IGNORE_INDEX, 6, 7]), Example([8], [8])], 0)
    assert batch["labels"].tolist() == [[IGNORE_INDEX, 6, 7], [8, IGNORE_INDEX, IGNORE_INDEX]]
    assert batch["input_ids"].dtype == torch.long


def test_split_counts_a_straddling_token_as_prompt() -> None:
    ids, n_prompt = split_ids(CharTokenizer(), "ab", "abc")
    assert ids == [1, ord("a"), ord("b"), ord("c")] and n_prompt == 3
    with pytest.raises(ValueError, match="extend the prompt"):
        split_ids(CharTokenizer(), "abc", "abd")


@pytest.fixture
def tok(tiny_model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.mark.parametrize("template", [True, False], ids=["chat-template", "base-model"])
def test_scored_ids_are_the_trained_ids(tok, template: bool) -> None:
    """Issue 12 item 7: the letter and loglik rules score exactly the tokens training trained."""
    if not template:
        tok.chat_template = None
    for style in ("letter", "cloze"):
        ex = encode_mcq(tok, ITEM, style, max_length=4096)
        trained = [t for t in ex.labels if t != IGNORE_INDEX]
        prompt = render_prompt(tok, mcq_messages(ITEM, style))
        prompt_ids = encode_text(tok, prompt)
        assert ex.input_ids[: len(prompt_ids)] == prompt_ids  # same prompt tokens, BOS included
        if style == "letter":
            scored = [letter_token_ids(tok, prompt, prompt_ids, list(ITEM.options))[ITEM.answer]]
        else:
            scored = answer_ids(tok, prompt, prompt_ids, ITEM.options[ITEM.answer])
        assert trained[: len(scored)] == scored, (style, tok.decode(trained), tok.decode(scored))
