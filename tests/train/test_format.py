"""Loss masks: the prompt is never trained, the answer and its end-of-turn marker always are."""

from __future__ import annotations

from pathlib import Path

import pytest

from raresupport.chat import answer_text, mcq_messages, render_conversation, render_prompt
from raresupport.tokens import IGNORE_INDEX, encode_example
from raresupport.train.demo import demo_vignettes
from raresupport.train.format import build_examples, encode_item


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def _trained(tokenizer, labels: list[int]) -> str:
    return tokenizer.decode([t for t in labels if t != IGNORE_INDEX])


@pytest.mark.parametrize("style", ["letter", "cloze"])
def test_labels_are_answer_plus_end_of_turn(tokenizer, style: str) -> None:
    v = demo_vignettes(1)[0]
    ex = encode_item(tokenizer, v, style, max_length=2048)
    answer = answer_text(v.to_mcq(), style, v.rationale)
    assert _trained(tokenizer, ex.labels) == answer + "<|im_end|>"
    if style == "cloze":
        assert answer == v.options[v.answer]
    else:
        assert answer.startswith(f"{v.answer}. {v.options[v.answer]}\n")
    # every prompt token is masked, and the masked part is exactly the rendered prompt
    n_prompt = ex.labels.index(next(t for t in ex.labels if t != IGNORE_INDEX))
    assert all(t == IGNORE_INDEX for t in ex.labels[:n_prompt])
    assert all(t != IGNORE_INDEX for t in ex.labels[n_prompt:])
    prompt = render_prompt(tokenizer, mcq_messages(v.to_mcq(), style))
    assert tokenizer.decode(ex.input_ids[:n_prompt]) == prompt


def test_input_is_the_shared_conversation_without_trailing_newline(tokenizer) -> None:
    v = demo_vignettes(1)[0]
    ex = encode_item(tokenizer, v, "letter", max_length=2048)
    messages = mcq_messages(v.to_mcq(), "letter")
    full = render_conversation(tokenizer, messages, answer_text(v.to_mcq(), "letter", v.rationale))
    assert full.endswith("<|im_end|>\n")
    assert tokenizer.decode(ex.input_ids) == full.rstrip()


def test_token_straddling_the_boundary_is_masked(tokenizer) -> None:
    """BPE may merge the prompt's last characters with the answer's first: no crash, no leak."""
    prompt, full = "Answer: sweat", "Answer: sweating of the palms"
    offsets = tokenizer(full, return_offsets_mapping=True)["offset_mapping"]
    assert any(s < len(prompt) < e for s, e in offsets), "the tokenizer must merge across here"
    ids, labels = encode_example(tokenizer, prompt, full, max_length=64)
    trained = _trained(tokenizer, labels)
    assert full.endswith(trained) and trained.strip()
    assert not trained.startswith("sweat")  # the prompt's characters are never trained


def test_truncation_cuts_the_prompt_from_the_left_only(tokenizer) -> None:
    v = demo_vignettes(1)[0]
    whole = encode_item(tokenizer, v, "letter", max_length=4096)
    short = encode_item(tokenizer, v, "letter", max_length=whole.n_target + 5)
    assert len(short) == whole.n_target + 5
    assert short.input_ids == whole.input_ids[-len(short) :]
    assert _trained(tokenizer, short.labels) == _trained(tokenizer, whole.labels)


def test_answer_longer_than_max_length_is_skipped_with_a_reason(tokenizer) -> None:
    vs = demo_vignettes(2)
    examples, skipped = build_examples(tokenizer, vs, styles=("letter",), max_length=20)
    assert examples == []
    assert len(skipped) == 2 and "max_length" in skipped[0] and vs[0].id in skipped[0]


def test_styles_and_rejected_items(tokenizer) -> None:
    vs = demo_vignettes(3)
    vs[1] = vs[1].model_copy(update={"status": "rejected"})
    examples, skipped = build_examples(tokenizer, vs, max_length=1024)
    assert not skipped
    assert [(e.source_id, e.style) for e in examples] == [
        (vs[0].id, "letter"), (vs[0].id, "cloze"), (vs[2].id, "letter"), (vs[2].id, "cloze"),
    ]  # fmt: skip


def test_rationale_can_be_left_out(tokenizer) -> None:
    v = demo_vignettes(1)[0]
    ex = encode_item(tokenizer, v, "letter", max_length=1024, include_rationale=False)
    assert _trained(tokenizer, ex.labels) == f"{v.answer}. {v.options[v.answer]}<|im_end|>"


def test_template_free_tokenizer_trains_the_eos(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.chat_template = None
    v = demo_vignettes(1)[0]
    ex = encode_item(tok, v, "cloze", max_length=2048)
    assert _trained(tok, ex.labels).endswith(v.options[v.answer] + tok.eos_token)
