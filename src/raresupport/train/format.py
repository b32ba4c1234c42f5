"""Turn vignettes into training examples, with the exact prompt evaluation uses.

The loss covers the answer *and* its end-of-turn marker (``<|im_end|>``, ``<|eot_id|>``...):
without the marker a tuned model never learns to stop. Everything the prompt renders is masked
(:func:`raresupport.tokens.encode_example` does the split).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from raresupport.chat import (
    PromptStyle,
    answer_text,
    mcq_messages,
    render_conversation,
    render_prompt,
)
from raresupport.data.benchmark import MCQItem
from raresupport.data.vignette import Vignette
from raresupport.tokens import IGNORE_INDEX, Example, encode_example

__all__ = ["IGNORE_INDEX", "Example", "build_examples", "encode_item", "encode_mcq"]

def encode_item(
    tokenizer: Any,
    vignette: Vignette,
    style: PromptStyle,
    *,
    max_length: int,
    include_rationale: bool = True,
    system_prompt: str | None = None,
) -> Example:
    """One vignette in one prompt style, rendered with the shared chat formatting."""
    rationale = vignette.rationale if include_rationale else ""
    return encode_mcq(
        tokenizer, vignette.to_mcq(), style, max_length=max_length, rationale=rationale,
        system_prompt=system_prompt,
    )  # fmt: skip


def encode_mcq(
    tokenizer: Any,
    item: MCQItem,
    style: PromptStyle,
    *,
    max_length: int,
    rationale: str = "",
    system_prompt: str | None = None,
) -> Example:
    """One multiple-choice item in one prompt style (vignettes and replay items alike)."""
    messages = mcq_messages(item, style, system_prompt)
    prompt = render_prompt(tokenizer, messages)
    full = render_conversation(tokenizer, messages, answer_text(item, style, rationale))
    ids, labels = encode_example(tokenizer, prompt, full, max_length)
    return Example(ids, labels, source_id=item.id, style=style)


def build_examples(
    tokenizer: Any,
    vignettes: Iterable[Vignette],
    *,
    styles: Sequence[PromptStyle] = ("letter", "cloze"),
    max_length: int = 384,
    include_rationale: bool = True,
    system_prompt: str | None = None,
) -> tuple[list[Example], list[str]]:
    """All (vignette, style) examples, plus one message per example that had to be skipped.

    Rejected vignettes are left out: they are kept in datasets only to audit the generator.
    """
    examples: list[Example] = []
    skipped: list[str] = []
    for v in vignettes:
        if v.status == "rejected":
            continue
        for style in styles:
            try:
                examples.append(
                    encode_item(
                        tokenizer,
                        v,
                        style,
                        max_length=max_length,
                        include_rationale=include_rationale,
                        system_prompt=system_prompt,
                    )
                )
            except ValueError as exc:
                skipped.append(f"{v.id} [{style}]: {exc}")
    return examples, skipped
