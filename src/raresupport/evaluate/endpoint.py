"""The ``generate`` scorer: ask an OpenAI-compatible chat endpoint and parse the letter.

Endpoints expose text, not logits, so the model answers the letter-style prompt greedily and
:func:`parse_answer_letter` reads its choice; unparseable replies count as wrong and are
counted (``extra["parse_failure"]``) so a formatting problem cannot hide as low accuracy.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from raresupport.chat import mcq_messages
from raresupport.data.benchmark import MCQItem
from raresupport.errors import ModelError
from raresupport.evaluate.base import Prediction, progress_bar, scorers
from raresupport.evaluate.parse import parse_answer_letter


def make_client(base_url: str, api_key: str | None = None, timeout: float = 60.0) -> Any:
    """An ``openai.OpenAI`` client; the key falls back to env vars, then a dummy (local servers)."""
    from openai import OpenAI

    key = api_key or os.environ.get("RARESUPPORT_API_KEY") or os.environ.get("OPENAI_API_KEY")
    return OpenAI(base_url=base_url, api_key=key or "not-needed", timeout=timeout)


def _ask(client: Any, model: str, item: MCQItem, system_prompt: str | None, max_tokens: int):
    try:
        reply = client.chat.completions.create(
            model=model,
            messages=mcq_messages(item, "letter", system_prompt),
            temperature=0,
            max_tokens=max_tokens,
        )
    except Exception as exc:  # noqa: BLE001 - openai raises many types; report one line
        raise ModelError(f"endpoint model {model!r} failed on item {item.id!r}: {exc}") from exc
    return (reply.choices[0].message.content or "") if reply.choices else ""


@scorers.register("generate")
def score_generate(
    model: Any,
    tokenizer: Any,
    items: Sequence[MCQItem],
    *,
    system_prompt: str | None = None,
    batch_size: int = 8,
    progress: bool = False,
    base_url: str | None = None,
    api_key: str | None = None,
    client: Any = None,
    max_tokens: int = 32,
    **_: Any,
) -> list[Prediction]:
    """Score items through a chat endpoint; ``model`` is the endpoint's model name.

    ``batch_size`` requests run concurrently. Pass ``client`` (an ``openai.OpenAI``) or
    ``base_url``.
    """
    if client is None:
        if not base_url:
            raise ModelError("the generate method needs an endpoint: pass --base-url")
        client = make_client(base_url, api_key)
    name = str(model)

    def one(item: MCQItem) -> Prediction:
        text = _ask(client, name, item, system_prompt, max_tokens)
        pred = parse_answer_letter(text, item.options)
        extra = {"response": text, "parse_failure": pred is None}
        return Prediction(item.id, item.task, item.answer, pred, {}, extra)

    preds: list[Prediction] = []
    with (
        ThreadPoolExecutor(max_workers=max(1, batch_size)) as pool,
        progress_bar(len(items), "generate", progress, unit="item") as bar,
    ):
        for pred in pool.map(one, items):
            preds.append(pred)
            bar.update(1)
    return preds
