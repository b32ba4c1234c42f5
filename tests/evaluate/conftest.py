"""Fixtures for evaluation tests: hand-made items and a tiny model taught to answer them."""

from __future__ import annotations

from pathlib import Path

import pytest

from raresupport.data.benchmark import MCQItem

TAUGHT = [
    MCQItem(
        id="t1",
        task="diagnosis",
        question="Sweaty palms since childhood, stops in sleep. Most likely diagnosis?",
        options={
            "A": "Hyperthyroidism",
            "B": "Primary focal hyperhidrosis",
            "C": "Lymphoma",
            "D": "Menopause",
        },
        answer="B",
    ),
    MCQItem(
        id="t2",
        task="treatment",
        question="Axillary sweating; which first-line treatment?",
        options={
            "A": "Sympathectomy",
            "B": "Oral steroids",
            "C": "Aluminium chloride antiperspirant",
        },
        answer="C",
    ),
]


def teach(model_dir: Path, items: list[MCQItem], steps: int = 150, lr: float = 3e-3) -> Path:
    """Fit the tiny model on ``items`` in both prompt styles (loss on the answer only)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from raresupport.chat import answer_text, mcq_messages, render_conversation, render_prompt
    from raresupport.tokens import encode_example

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    rows = []
    for item in items:
        for style in ("letter", "cloze"):
            msgs = mcq_messages(item, style)
            prompt = render_prompt(tok, msgs)
            full = render_conversation(tok, msgs, answer_text(item, style))
            ids, labels = encode_example(tok, prompt, full, max_length=4096)
            rows.append((torch.tensor([ids]), torch.tensor([labels])))
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: threading overhead dominates
    try:
        opt = torch.optim.AdamW(model.parameters(), lr=lr)
        model.train()
        for step in range(steps):
            ids, labels = rows[step % len(rows)]
            model(input_ids=ids, labels=labels).loss.backward()
            opt.step()
            opt.zero_grad()
    finally:
        torch.set_num_threads(threads)
    out = model_dir.parent / (model_dir.name + "-taught")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def taught_model_dir(tiny_model_dir: Path) -> Path:
    return teach(tiny_model_dir, TAUGHT)


@pytest.fixture(scope="session")
def varied_items() -> list[MCQItem]:
    """Items of very different lengths and option counts (stresses padding)."""
    return [
        MCQItem(id="v1", task="general", question="Short?", options={"A": "yes", "B": "no"},
                answer="A"),
        MCQItem(
            id="v2", task="general",
            question="A much longer question about a patient with many findings " * 4,
            options={"A": "one option text", "B": "another, rather longer option text here",
                     "C": "x", "D": "a fourth", "E": "fifth", "F": "sixth option"},
            answer="F",
        ),
        MCQItem(id="v3", task="treatment", question="Which drug?",
                options={"A": "glycopyrronium", "B": "botulinum toxin", "C": "oxybutynin"},
                answer="B"),
    ]  # fmt: skip
