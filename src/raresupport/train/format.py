"""Turn vignettes into token ids and loss labels, with the exact prompt evaluation uses.

The loss covers the answer *and* its end-of-turn marker (``<|im_end|>``, ``<|eot_id|>``...):
without the marker a tuned model never learns to stop. Everything the prompt renders is masked
with -100. The boundary is found from character offsets of one tokenisation of the full text,
not by tokenising the prompt alone, because BPE may merge across the boundary and the two
tokenisations would then disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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

IGNORE_INDEX = -100


@dataclass(frozen=True)
class Example:
    """One tokenised training sequence; ``labels`` is -100 wherever no loss is taken."""

    input_ids: list[int]
    labels: list[int]
    source_id: str = ""
    style: str = ""

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def n_target(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE_INDEX)


def _adds_bos(tokenizer: Any, text: str) -> bool:
    """Let the tokenizer add its BOS only when the rendered text does not already carry it.

    Chat templates of Llama-3 style models write ``<|begin_of_text|>`` themselves; adding it again
    would train on a doubled BOS that evaluation never shows the model.
    """
    bos = getattr(tokenizer, "bos_token", None)
    return not (bos and text.startswith(bos))


def encode(tokenizer: Any, prompt: str, full: str, max_length: int) -> tuple[list[int], list[int]]:
    """Token ids and labels for ``full``, where ``full[:len(prompt)]`` is masked.

    Trailing whitespace after the end-of-turn marker (ChatML's ``"\\n"``) is dropped: it is not
    part of the answer and the model stops before it. When too long, tokens are cut from the
    *left* of the prompt; the answer is never cut (ValueError if it alone does not fit).
    """
    if not full.startswith(prompt) or len(full) <= len(prompt):
        raise ValueError("the conversation must extend the prompt with an answer")
    text = full[: len(prompt)] + full[len(prompt) :].rstrip()
    enc = tokenizer(
        text, add_special_tokens=_adds_bos(tokenizer, text), return_offsets_mapping=True
    )
    ids: list[int] = list(enc["input_ids"])
    offsets = enc["offset_mapping"]
    cut = len(prompt)
    # added specials (BOS) have offsets (0, 0) and fall in the prompt; a token straddling the
    # boundary starts inside the prompt, so it is masked too
    labels = [
        IGNORE_INDEX if start < cut else tok for tok, (start, _) in zip(ids, offsets, strict=True)
    ]
    n_answer = sum(1 for x in labels if x != IGNORE_INDEX)
    if n_answer == 0:
        raise ValueError("the answer produced no trainable tokens")
    if len(ids) > max_length:
        if n_answer >= max_length:
            raise ValueError(f"the answer alone has {n_answer} tokens >= max_length {max_length}")
        ids, labels = ids[-max_length:], labels[-max_length:]
    return ids, labels


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
    ids, labels = encode(tokenizer, prompt, full, max_length)
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
