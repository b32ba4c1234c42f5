"""The ``generate`` scorer: ask an OpenAI-compatible chat endpoint and parse the letter.

Endpoints expose text, not logits, so the model answers the letter-style prompt greedily and
:func:`read_answer` reads its choice from the final answer (never from reasoning); unparseable
replies count as wrong and are counted by reason (``extra["parse_failure"]``: ``truncated``,
``empty``, ``no letter``) so a formatting problem or a too small token budget cannot hide as
low accuracy.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from raresupport.chat import mcq_messages
from raresupport.data.benchmark import MCQItem
from raresupport.evaluate.base import Prediction, scoring_rule
from raresupport.evaluate.parse import FAILURE_REASONS, read_answer
from raresupport.models.backends import Endpoint
from raresupport.progress import Progress

log = logging.getLogger(__name__)
#: Reply budget per item, in tokens. Reasoning models think before they answer (often 1-3k
#: tokens on a multiple-choice question); a budget that cuts them off scores them as wrong.
#: Local servers (vLLM) refuse prompt + max_tokens beyond the context, so 4096 fits 8k models.
DEFAULT_MAX_TOKENS = 4096


@scoring_rule("generate", backend="endpoint")
def score_generate(
    backend: Endpoint,
    items: Sequence[MCQItem],
    *,
    system_prompt: str | None = None,
    batch_size: int = 8,
    progress: bool = False,
    max_tokens: int | None = None,
    **_: Any,
) -> list[Prediction]:
    """Score items through a chat endpoint; ``model`` is the endpoint's model name.

    ``batch_size`` requests run concurrently. ``max_tokens`` (None = :data:`DEFAULT_MAX_TOKENS`)
    bounds each reply, in tokens.
    """
    budget = max_tokens or DEFAULT_MAX_TOKENS

    def one(item: MCQItem) -> Prediction:
        messages = mcq_messages(item, "letter", system_prompt)
        reply = backend.chat(messages, max_tokens=budget, item_id=item.id)
        pred, failure = read_answer(reply, item.options)
        extra = {"response": reply.content or "", "parse_failure": failure}
        if reply.finish_reason is not None:
            extra["finish_reason"] = reply.finish_reason
        return Prediction(item.id, item.task, item.answer, pred, {}, extra)

    preds: list[Prediction] = []
    with (
        ThreadPoolExecutor(max_workers=max(1, batch_size)) as pool,
        Progress("generate", len(items), enabled=progress, unit="item") as bar,
    ):
        for pred in pool.map(one, items):
            preds.append(pred)
            bar.update(1)
    report_parse_failures(preds, budget)
    return preds


def report_parse_failures(preds: Sequence[Prediction], max_tokens: int) -> None:
    """One warning line: how many replies gave no letter, by reason, with an example."""
    failed = [p for p in preds if p.pred is None]
    if not failed:
        return
    counts = Counter(p.extra.get("parse_failure") or "no letter" for p in failed)
    reasons = {r: counts[r] for r in sorted(counts, key=_reason_order)}
    first = failed[0]
    reply = " ".join(str(first.extra.get("response", "")).split())[:80]
    hint = f"; raise --max-tokens (now {max_tokens})" if reasons.get("truncated") else ""
    log.warning(
        "generate: no answer letter in %d of %d replies (%s)%s; e.g. item %s (%s): %r",
        len(failed), len(preds), ", ".join(f"{r} {n}" for r, n in reasons.items()),
        hint, first.id, first.extra.get("parse_failure"), reply,
    )


def _reason_order(reason: str) -> int:
    return FAILURE_REASONS.index(reason) if reason in FAILURE_REASONS else len(FAILURE_REASONS)
