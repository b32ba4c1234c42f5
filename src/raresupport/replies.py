"""What a chat endpoint's reply says, once the model's reasoning is set apart.

Reasoning models (DeepSeek-R1, Qwen3, QwQ, gpt-oss, ...) think before they answer, and servers
hand that thinking back in different ways: in a separate ``reasoning_content`` (or
``reasoning``) field, inside ``<think>`` / ``<reasoning>`` / ``<thinking>`` blocks in the
content, or (chat templates that open ``<think>`` in the prompt) as content that starts inside
the block and only shows its closing tag. Reasoning often mentions the very things the answer
must contain (``{case, question, options}``, "maybe B ... no, C"), so the teacher's JSON
reader and the evaluator's letter reader both look only at the final answer this module
returns. Both the teacher (``generate/teacher``) and the ``generate`` scorer use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: Tag names taken for reasoning blocks: think, thinking, thought(s), reasoning, reflection,
#: scratchpad, analysis, inner_monologue, ... (any name containing one of these stems).
_NAME = r"[a-z_\-]*(?:think|thought|reason|reflect|scratch|analy|monolog|ponder|deliberat)[a-z_\-]*"
#: (opening, closing) delimiters of a reasoning block, each with a ``{name}`` slot: XML-style
#: tags (DeepSeek-R1, Qwen3, QwQ), square brackets (Magistral ``[THINK]``), the
#: ``<|begin_of_thought|>`` markers (Sky-T1, OpenThoughts), Kimi's ``◁think▷``.
_DELIMITERS: tuple[tuple[str, str], ...] = (
    (r"<(?P<tag>{name})(?:\s[^>]*)?>", r"</(?P=tag)\s*>"),
    (r"\[(?P<tag>{name})\]", r"\[/(?P=tag)\]"),
    (r"<\|begin_of_(?P<tag>{name})\|>", r"<\|end_of_(?P=tag)\|>"),
    (r"◁(?P<tag>{name})▷", r"◁/(?P=tag)▷"),
)
_BLOCKS = [
    re.compile(o.format(name=_NAME) + r".*?" + c, re.I | re.S) for o, c in _DELIMITERS
]
_CLOSE = re.compile(
    "|".join(c.replace("(?P=tag)", _NAME) for _, c in _DELIMITERS), re.I
)
_OPEN = re.compile(
    "|".join(o.format(name=_NAME).replace("?P<tag>", "?:") for o, _ in _DELIMITERS), re.I
)
#: A final answer wrapped in tags (``<answer>B</answer>``, ``<|begin_of_solution|>``...): the
#: last such block is the answer.
_ANSWER_BLOCK = re.compile(
    r"<(?P<tag>answer|final_answer|final|solution|output)>(?P<body>.*?)</(?P=tag)\s*>"
    r"|<\|begin_of_solution\|>(?P<sol>.*?)(?:<\|end_of_solution\|>|\Z)",
    re.I | re.S,
)
#: gpt-oss "harmony" output read raw: the final channel follows this marker.
_HARMONY_FINAL = re.compile(r"<\|channel\|>\s*final\s*<\|message\|>", re.I)
_HARMONY_TAIL = re.compile(r"<\|(?:end|return|call)\|>.*\Z", re.S)


@dataclass(frozen=True)
class Reply:
    """One choice of a chat completion.

    Attributes:
        content: the message content as sent (None when the server sent none).
        reasoning: reasoning the server sent apart (``reasoning_content`` / ``reasoning``).
        finish_reason: ``"stop"``, ``"length"`` (cut at ``max_tokens``), ... or None.
    """

    content: str | None
    reasoning: str | None = None
    finish_reason: str | None = None

    @property
    def answer(self) -> str:
        """The final answer: the content without reasoning blocks, stripped."""
        return final_answer(self.content)

    @property
    def truncated(self) -> bool:
        """The server stopped at the token limit."""
        return self.finish_reason == "length"


def reply_of(response: Any) -> Reply:
    """The first choice of an ``openai`` ChatCompletion (or a dict shaped like one)."""
    choices = _get(response, "choices") or []
    if not choices:
        return Reply(None)
    choice = choices[0]
    message = _get(choice, "message")
    reasoning = None
    for name in ("reasoning_content", "reasoning"):
        value = _get(message, name)
        if isinstance(value, str) and value:
            reasoning = value
            break
    content = _get(message, "content")
    return Reply(
        content if isinstance(content, str) else None, reasoning, _get(choice, "finish_reason")
    )


def _get(obj: Any, name: str) -> Any:
    """Attribute or key ``name``; the openai models keep unknown fields in ``model_extra``."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    value = getattr(obj, name, None)
    if value is None:
        value = (getattr(obj, "model_extra", None) or {}).get(name)
    return value


def final_answer(content: str | None) -> str:
    """``content`` with every reasoning block removed, stripped ("" when nothing is left).

    Removes complete ``<think>…</think>``-style blocks anywhere (see ``_DELIMITERS``); text
    before a closing tag that has no opening one (the block was opened by the chat template);
    and an opening tag that is never closed, with everything after it (the reply was cut while
    thinking). What is left, if it wraps its answer in ``<answer>…</answer>``-style tags, is
    reduced to the last such block's content.
    """
    if not content:
        return ""
    text = content
    harmony = list(_HARMONY_FINAL.finditer(text))
    if harmony:
        text = _HARMONY_TAIL.sub("", text[harmony[-1].end() :])
    for block in _BLOCKS:
        text = block.sub("", text)
    closes = list(_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end() :]
    opened = _OPEN.search(text)
    if opened:
        text = text[: opened.start()]
    wrapped = list(_ANSWER_BLOCK.finditer(text))
    if wrapped:
        last = wrapped[-1]
        text = last.group("body") if last.group("body") is not None else last.group("sol")
    return text.strip()
