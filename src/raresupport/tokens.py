"""The one place where text becomes token ids: BOS, the prompt/answer split, pad id, padding.

Training, evaluation, replay and the tests all go through here, so a tuned model is scored on
exactly the tokens it was trained on:

* **BOS exactly once**: the tokenizer adds its special tokens only when the rendered text does
  not already start with BOS (Llama-3 style chat templates write ``<|begin_of_text|>``
  themselves; a plain prompt needs the tokenizer's).
* **Prompt/answer split** from character offsets of *one* tokenisation of the whole text, not
  by tokenising the prompt alone: BPE may merge across the boundary. A token that straddles the
  boundary belongs to the prompt (it is never trained, and scoring falls back to encoding the
  answer alone).
* **Pad id**: the tokenizer's pad token, else its EOS, else 0 - and a pad id of 0 stays 0.
* **Padding**: right padding for training (a causal model's real tokens never see the pads),
  left padding for scoring (every row's last token in the last column), with explicit
  mask-aware position ids.

The text on both sides of the split comes from :mod:`raresupport.chat`, including the separator
between prompt and answer (:func:`raresupport.chat.answer_separator`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from raresupport.chat import answer_separator
from raresupport.errors import ModelError

#: label value of positions that take no loss (the prompt, padding); PyTorch's default
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


def adds_bos(tokenizer: Any, text: str) -> bool:
    """Whether the tokenizer should add its special tokens: not when ``text`` starts with BOS."""
    bos = getattr(tokenizer, "bos_token", None)
    return not (bos and text.startswith(bos))


def encode_text(tokenizer: Any, text: str) -> list[int]:
    """Token ids of a rendered prompt or conversation, with BOS exactly once."""
    return list(tokenizer(text, add_special_tokens=adds_bos(tokenizer, text))["input_ids"])


def split_ids(tokenizer: Any, prompt: str, full: str) -> tuple[list[int], int]:
    """Ids of ``full`` and how many of them belong to ``full[:len(prompt)]``.

    A token is a prompt token when it starts inside the prompt (added specials have offsets
    (0, 0)); a token straddling the boundary is therefore a prompt token.

    Raises:
        ValueError: ``full`` does not extend ``prompt``.
    """
    if not full.startswith(prompt) or len(full) <= len(prompt):
        raise ValueError("the text must extend the prompt with an answer")
    enc = tokenizer(full, add_special_tokens=adds_bos(tokenizer, full), return_offsets_mapping=True)
    ids, cut = list(enc["input_ids"]), len(prompt)
    n_prompt = sum(1 for start, _ in enc["offset_mapping"] if start < cut)
    return ids, n_prompt


def encode_example(
    tokenizer: Any, prompt: str, full: str, max_length: int
) -> tuple[list[int], list[int]]:
    """Token ids and loss labels for ``full``; its first ``len(prompt)`` characters are masked.

    Trailing whitespace after the end-of-turn marker (ChatML's ``"\\n"``) is dropped: it is not
    part of the answer and the model stops before it. When too long, tokens are cut from the
    *left* of the prompt; the answer is never cut.

    Returns:
        ``(input_ids, labels)``, both of length <= ``max_length``.

    Raises:
        ValueError: no answer tokens, or the answer alone does not fit ``max_length``.
    """
    text = full[: len(prompt)] + full[len(prompt) :].rstrip()
    ids, n_prompt = split_ids(tokenizer, prompt, text)
    labels = [IGNORE_INDEX] * n_prompt + ids[n_prompt:]
    n_answer = len(ids) - n_prompt
    if n_answer == 0:
        raise ValueError("the answer produced no trainable tokens")
    if len(ids) > max_length:
        if n_answer >= max_length:
            raise ValueError(f"the answer alone has {n_answer} tokens >= max_length {max_length}")
        ids, labels = ids[-max_length:], labels[-max_length:]
    return ids, labels


def answer_ids(tokenizer: Any, prompt: str, prompt_ids: list[int], answer: str) -> list[int]:
    """Ids of ``answer`` as a model meets it right after ``prompt`` (what training trained).

    ``answer`` is the bare answer (an option letter or text); the separator training puts
    before it is added here. If a BPE merge crosses the boundary the answer is encoded alone.

    Raises:
        ModelError: the answer encodes to no tokens.
    """
    continuation = answer_separator(tokenizer) + answer
    ids, n_prompt = split_ids(tokenizer, prompt, prompt + continuation)
    if ids[:n_prompt] == prompt_ids and len(ids) > n_prompt:
        return ids[n_prompt:]
    alone = list(tokenizer(continuation, add_special_tokens=False)["input_ids"])
    if not alone:
        raise ModelError(f"continuation {continuation!r} encodes to no tokens")
    return alone


def pad_id(tokenizer: Any) -> int:
    """The tokenizer's pad id, else its EOS id, else 0 (an id of 0 is kept, not skipped)."""
    for name in ("pad_token_id", "eos_token_id"):
        value = getattr(tokenizer, name, None)
        if isinstance(value, int):
            return value
    return 0


def left_pad(seqs: Sequence[Sequence[int]], pad: int) -> tuple[Any, Any, Any]:
    """Left-padded ``input_ids``, ``attention_mask`` and mask-aware ``position_ids``.

    Returns:
        three ``LongTensor`` of shape ``(len(seqs), max_len)``; position ids keep padded rows
        numerically equal to unpadded ones (models do not all derive them from the mask).
    """
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, seq in enumerate(seqs):
        if seq:
            ids[row, width - len(seq) :] = torch.tensor(list(seq), dtype=torch.long)
            mask[row, width - len(seq) :] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return ids, mask, positions


def right_pad(
    seqs: Sequence[Sequence[int]], pad: int, fill: Sequence[Sequence[int]] | None = None
) -> tuple[Any, ...]:
    """Right-padded ``input_ids`` and ``attention_mask`` of shape ``(len(seqs), max_len)``.

    With ``fill`` (labels, one list per sequence) a third tensor holds them, padded with
    ``IGNORE_INDEX``.
    """
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    labels = torch.full((len(seqs), width), IGNORE_INDEX, dtype=torch.long)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = torch.tensor(list(seq), dtype=torch.long)
        mask[row, : len(seq)] = 1
        if fill is not None:
            labels[row, : len(seq)] = torch.tensor(list(fill[row]), dtype=torch.long)
    return (ids, mask) if fill is None else (ids, mask, labels)


def collate(examples: Sequence[Example], pad: int) -> dict[str, Any]:
    """A right-padded training batch: ``input_ids``, ``labels``, ``attention_mask``."""
    ids, mask, labels = right_pad(
        [e.input_ids for e in examples], pad, [e.labels for e in examples]
    )
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}
