"""chat.py: one renderer of items into messages; templates that refuse a system turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from raresupport.chat import (
    DEFAULT_SYSTEM_PROMPT,
    answer_text,
    fold_system,
    mcq_messages,
    render_conversation,
    render_prompt,
)
from raresupport.data.benchmark import MCQItem
from raresupport.tokens import IGNORE_INDEX

#: a Gemma-style template: no system role, "model" turns
NO_SYSTEM_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for m in messages %}<|im_start|>{{ 'model' if m['role'] == 'assistant' else m['role'] }}"
    "\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>model\n{% endif %}"
)
ITEM = MCQItem(id="q", task="diagnosis", question="Sweaty palms since age 12?",
               options={"A": "Primary focal hyperhidrosis", "B": "Lymphoma"},
               answer="A")  # fmt: skip


def test_mcq_messages_styles_and_default_system_prompt() -> None:
    letter = mcq_messages(ITEM, "letter")
    assert letter[0] == {"role": "system", "content": DEFAULT_SYSTEM_PROMPT}
    assert "A. Primary focal hyperhidrosis" in letter[1]["content"]
    cloze = mcq_messages(ITEM, "cloze", "Be brief.")
    assert cloze[0]["content"] == "Be brief." and "A." not in cloze[1]["content"]
    assert answer_text(ITEM, "cloze") == "Primary focal hyperhidrosis"


def test_fold_system_moves_it_into_the_first_user_turn() -> None:
    folded = fold_system(mcq_messages(ITEM, "letter", "SYS"))
    assert [m["role"] for m in folded] == ["user"]
    assert folded[0]["content"].startswith("SYS\n\nTask: diagnosis")


@pytest.fixture
def gemma_like(tiny_model_dir: Path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.chat_template = NO_SYSTEM_TEMPLATE
    with pytest.raises(Exception, match="System role not supported"):
        tok.apply_chat_template(mcq_messages(ITEM), tokenize=False)
    return tok


def test_a_template_without_system_role_gets_the_system_text_in_the_user_turn(gemma_like):
    prompt = render_prompt(gemma_like, mcq_messages(ITEM, "letter", "SYS PROMPT"))
    assert prompt.startswith("<|im_start|>user\nSYS PROMPT\n\nTask: diagnosis")
    assert prompt.endswith("<|im_start|>model\n")
    full = render_conversation(gemma_like, mcq_messages(ITEM, "letter", "SYS PROMPT"), "A. x")
    assert full.startswith(prompt) and full.endswith("A. x<|im_end|>\n")


def test_training_and_scoring_run_on_a_template_without_system_role(tiny_model_dir, gemma_like):
    """Issue 12 item 6: train and eval both work (same folded prompt), no traceback."""
    from raresupport.evaluate.hf import score_letter, score_loglik
    from raresupport.models import LocalModel
    from raresupport.models.load import load_model
    from raresupport.train.format import encode_mcq

    ex = encode_mcq(gemma_like, ITEM, "letter", max_length=4096, system_prompt="SYS")
    n_prompt = ex.labels.index(next(t for t in ex.labels if t != IGNORE_INDEX))
    assert gemma_like.decode(ex.input_ids[:n_prompt]).startswith("<|im_start|>user\nSYS\n\n")
    model, _ = load_model(str(tiny_model_dir))
    backend = LocalModel(model, gemma_like)
    for rule in (score_letter, score_loglik):
        (pred,) = rule(backend, [ITEM], system_prompt="SYS")
        assert pred.pred in ITEM.options
