"""What every scorer returns, the scorer registry, and the tokenisation/padding helpers.

A scorer maps items to one :class:`Prediction` each; accuracy, intervals and reports are computed
from predictions only, so new scorers (plug-ins in ``raresupport.scorers``) get them for free.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from raresupport.data.benchmark import MCQItem
from raresupport.errors import ModelError
from raresupport.registry import Registry


@dataclass
class Prediction:
    """One scored item: the predicted letter (None when unparseable) and per-option scores."""

    id: str
    task: str
    answer: str
    pred: str | None
    scores: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def correct(self) -> bool:
        return self.pred == self.answer

    def to_row(self, **context: Any) -> dict[str, Any]:
        """A JSON-ready row for predictions.jsonl (``context`` adds e.g. benchmark, method)."""
        return {**context, **asdict(self), "correct": self.correct}


class Scorer(Protocol):
    """``scorer(model, tokenizer, items, *, system_prompt, batch_size, progress, **options)``."""

    def __call__(
        self,
        model: Any,
        tokenizer: Any,
        items: Sequence[MCQItem],
        *,
        system_prompt: str | None = None,
        batch_size: int = 8,
        progress: bool = False,
        **options: Any,
    ) -> list[Prediction]: ...


#: scorer name -> function; built-ins: letter, loglik, generate
scorers: Registry[Scorer] = Registry("scorers")


def chunks(seq: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most ``size`` elements."""
    size = max(1, int(size))
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def progress_bar(total: int, desc: str, enabled: bool, unit: str = "batch") -> Any:
    """A tqdm bar on a terminal (a no-op object when disabled or piped; callers need no branch)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=None if enabled else True, leave=False)


def encode_prompt(tokenizer: Any, prompt: str) -> list[int]:
    """Token ids of a rendered prompt, with BOS exactly once.

    Same rule as training (``raresupport.train.format``): the tokenizer adds its special tokens
    only when the text does not already start with BOS - Llama-3 style chat templates write it
    themselves, while a plain prompt or a template without BOS needs the tokenizer's.
    """
    bos = getattr(tokenizer, "bos_token", None)
    add_special = not (bos and prompt.startswith(bos))
    return list(tokenizer(prompt, add_special_tokens=add_special)["input_ids"])


def encode_continuation(
    tokenizer: Any, prompt: str, prompt_ids: list[int], continuation: str
) -> list[int]:
    """Ids of ``continuation`` as the model sees it right after ``prompt``.

    Encoding the joined text and cutting off the prompt's ids gives the tokens a model actually
    meets (BPE merges depend on context); if a merge crosses the boundary, fall back to encoding
    the continuation alone.
    """
    joined = encode_prompt(tokenizer, prompt + continuation)
    n = len(prompt_ids)
    if joined[:n] == prompt_ids and len(joined) > n:
        return joined[n:]
    ids = list(tokenizer(continuation, add_special_tokens=False)["input_ids"])
    if not ids:
        raise ModelError(f"continuation {continuation!r} encodes to no tokens")
    return ids


def pad_id(tokenizer: Any) -> int:
    pid = tokenizer.pad_token_id
    if pid is None:
        pid = tokenizer.eos_token_id
    return int(pid if pid is not None else 0)


def left_pad(seqs: Sequence[Sequence[int]], pad: int) -> tuple[Any, Any, Any]:
    """Left-padded ``input_ids``, ``attention_mask`` and mask-aware ``position_ids``.

    Left padding puts every sequence's last token in the last column; explicit position ids
    keep padded rows numerically equal to unpadded ones (models do not all derive them).
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


def right_pad(seqs: Sequence[Sequence[int]], pad: int) -> tuple[Any, Any]:
    """Right-padded ``input_ids`` and ``attention_mask`` (continuations after a cached prompt)."""
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = torch.tensor(list(seq), dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


def model_device(model: Any) -> Any:
    import torch

    try:
        return next(model.parameters()).device
    except StopIteration:  # pragma: no cover - a model without parameters
        return torch.device("cpu")
