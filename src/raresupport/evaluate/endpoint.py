"""The ``generate`` scoring rule: ask a chat endpoint and parse the letter from its reply.

Endpoints expose text, not logits, so the model answers the letter-style prompt greedily and
:func:`parse_answer_letter` reads its choice; unparseable replies count as wrong and are
counted (``extra["parse_failure"]``) so a formatting problem cannot hide as low accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from raresupport.chat import mcq_messages
from raresupport.data.benchmark import MCQItem
from raresupport.evaluate.base import Prediction, scoring_rule
from raresupport.evaluate.parse import parse_answer_letter
from raresupport.models.backends import Endpoint
from raresupport.progress import Progress


@scoring_rule("generate", backend="endpoint")
def score_generate(
    backend: Endpoint,
    items: Sequence[MCQItem],
    *,
    system_prompt: str | None = None,
    batch_size: int = 8,
    progress: bool = False,
    max_tokens: int = 32,
    **_: Any,
) -> list[Prediction]:
    """Score items through ``backend``; ``batch_size`` requests run concurrently.

    Args:
        max_tokens: reply budget per item, in tokens.
    """

    def one(item: MCQItem) -> Prediction:
        messages = mcq_messages(item, "letter", system_prompt)
        text = backend.chat(messages, max_tokens=max_tokens, item_id=item.id)
        pred = parse_answer_letter(text, item.options)
        extra = {"response": text, "parse_failure": pred is None}
        return Prediction(item.id, item.task, item.answer, pred, {}, extra)

    preds: list[Prediction] = []
    with (
        ThreadPoolExecutor(max_workers=max(1, batch_size)) as pool,
        Progress("generate", len(items), enabled=progress, unit="item") as bar,
    ):
        for pred in pool.map(one, items):
            preds.append(pred)
            bar.update(1)
    return preds
