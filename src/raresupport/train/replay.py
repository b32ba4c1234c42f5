"""Self-replay: rehearse the base model's own answers to general questions while tuning.

Why: a few hundred disease items at a CPU-sized learning rate shift which answers the model finds
likely *everywhere*, not only for the disease (SmolLM2-135M fell from 10/24 to 3-6/24 on the
general-medicine control). Mixing in the base model's own (question, answer) pairs outside the
disease anchors its behaviour there, as in "learning without forgetting" (Li & Hoiem, 2017).
No outside data is used: the base model writes both the questions and the answers, before any
LoRA weight exists, and the pairs are saved next to the adapter so a resumed run reuses them.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch

from raresupport.data.benchmark import MCQItem

REPLAY_FILE = "replay.jsonl"
REPLAY_TASK = "general"
#: Broad areas of general medicine the base model is asked to write questions about.
GENERAL_TOPICS = (
    "blood pressure", "asthma", "diabetes", "heart attack", "stroke", "pneumonia",
    "urinary tract infection", "anaemia", "thyroid disease", "migraine", "epilepsy",
    "depression", "kidney stones", "appendicitis", "allergies", "vaccination", "antibiotics",
    "vitamins", "pregnancy", "fractures", "burns", "first aid", "dehydration", "the liver",
    "the lungs", "the heart", "the kidneys", "the brain", "cholesterol", "obesity", "sleep",
    "childhood fever", "pain relief", "skin rashes", "eye disease", "hearing loss", "arthritis",
    "back pain", "infection control", "nutrition",
)
_ASK = "Write one short exam question about {topic} in general medicine. Write only the question."


@torch.no_grad()
def _generate(
    model: Any, tokenizer: Any, prompts: list[str], max_new_tokens: int, sample: bool
) -> list[str]:
    """Batched generation (left padding, BOS as in training) of the continuations of ``prompts``."""
    from raresupport.tokens import encode_text, left_pad, pad_id

    pad = pad_id(tokenizer)
    ids, mask, _ = left_pad([encode_text(tokenizer, p) for p in prompts], pad)
    sampling = {"do_sample": True, "temperature": 0.9, "top_p": 0.95} if sample else {
        "do_sample": False, "temperature": None, "top_p": None}
    out = model.generate(
        input_ids=ids.to(model.device), attention_mask=mask.to(model.device), **sampling,
        max_new_tokens=max_new_tokens, min_new_tokens=2, top_k=None, pad_token_id=pad,
    )  # fmt: skip
    texts = tokenizer.batch_decode(out[:, ids.shape[1] :], skip_special_tokens=True)
    return [next((line.strip() for line in t.splitlines() if line.strip()), "") for t in texts]


def make_replay(
    model: Any, tokenizer: Any, n: int, *, system_prompt: str | None, seed: int = 0,
    batch_size: int = 32,
) -> list[dict[str, str]]:
    """``n`` (question, answer) pairs written by ``model`` itself, deterministic for a seed."""
    from raresupport.chat import mcq_messages, render_prompt

    rng = random.Random(seed)
    torch.manual_seed(seed)
    was_training = model.training
    model.eval()
    pairs: list[dict[str, str]] = []
    try:
        for _ in range(3):  # a few empty or runaway questions are dropped and redrawn
            need = n - len(pairs)
            if need <= 0:
                break
            topics = [rng.choice(GENERAL_TOPICS) for _ in range(need)]
            for i in range(0, need, batch_size):
                chunk = topics[i : i + batch_size]
                asks = [render_prompt(tokenizer, [{"role": "user",
                                                   "content": _ASK.format(topic=t)}])
                        for t in chunk]  # fmt: skip
                questions = [q for q in _generate(model, tokenizer, asks, 32, True)
                             if 10 <= len(q) <= 300]  # fmt: skip
                if not questions:
                    continue
                items = [_item(q, "-") for q in questions]
                prompts = [render_prompt(tokenizer, mcq_messages(it, "cloze", system_prompt))
                           for it in items]  # fmt: skip
                answers = _generate(model, tokenizer, prompts, 12, False)
                pairs += [{"question": q, "answer": a}
                          for q, a in zip(questions, answers) if a]  # fmt: skip
    finally:
        model.train(was_training)
    return pairs[:n]


def _item(question: str, answer: str) -> MCQItem:
    options = {"A": answer, "B": "-"}  # cloze prompts never show options; A is the answer
    return MCQItem(id="replay", task=REPLAY_TASK, question=question, options=options, answer="A")


def replay_items(pairs: list[dict[str, str]]) -> list[MCQItem]:
    """The pairs as cloze items: the answer is option A, the text the model should keep saying."""
    return [_item(p["question"], p["answer"]) for p in pairs]


def load_or_make_replay(path: Path, make: Any) -> list[dict[str, str]]:
    """Reuse saved pairs (a resumed run must train on the same examples), else make and save."""
    from raresupport.data.jsonl import iter_jsonl, write_jsonl
    from raresupport.errors import DataError

    if path.exists():
        return [row for _, row in iter_jsonl(path, DataError, "replay file")]
    pairs = make()
    write_jsonl(path, pairs)
    return pairs
