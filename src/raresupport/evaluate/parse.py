"""Read the chosen option letter out of a free-text answer from a chat endpoint.

Endpoints only return text, so the ``generate`` scorer must parse it. Accepted forms: ``B``,
``(B)``, ``**B**``, ``B. text``, ``B) text``, ``Answer: B``, ``The answer is (B)``,
``**Answer:** B``. Anything else is a parse failure (scored wrong and counted), never a guess.

Reasoning models: the letter is read from the final answer only (see
:mod:`raresupport.replies`), never from a ``<think>`` block or ``reasoning_content``, where
"maybe B ... no, C" is common. A failure has one of :data:`FAILURE_REASONS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from raresupport.replies import Reply

#: Why no letter was read: the reply was cut at the token limit before the final answer;
#: there is no final answer (nothing, or only reasoning); the answer names no option letter.
FAILURE_REASONS: tuple[str, ...] = ("truncated", "empty", "no letter")

_ANSWER_IS = re.compile(
    r"(?i:\b(?:final\s+)?answer)(?:\s+(?i:is))?\s*\**\s*[:\-]?\s*\**\s*[(\[]?\**\s*"
    r"(?P<L>[A-Z])\b(?!['’]\w)"
)
_LEADING = re.compile(
    r"^\s*(?:\*\*|__)?\s*[(\[]?\s*(?P<L>[A-Z])\s*[)\]]?\s*(?:\*\*|__)?\s*(?:$|[.):,\-\n])"
)
_MARKED = re.compile(r"(?:\((?P<a>[A-Z])\)|\*\*(?P<b>[A-Z])\*\*|\[(?P<c>[A-Z])\])")


def parse_answer_letter(text: str, letters: Iterable[str] = "ABCD") -> str | None:
    """The option letter ``text`` commits to, or None when it does not clearly name one.

    Order: an explicit "answer: X"; then a leading letter followed by punctuation or the end
    (so "A 45-year-old..." is not read as A); then exactly one distinct marked letter
    ``(X)``/``**X**``/``[X]`` anywhere in the text.
    """
    valid = set(letters)
    if not text:
        return None
    for match in _ANSWER_IS.finditer(text):
        if match.group("L") in valid:
            return match.group("L")
    match = _LEADING.match(text)
    if match and match.group("L") in valid:
        return match.group("L")
    marked = {m.group("a") or m.group("b") or m.group("c") for m in _MARKED.finditer(text)}
    marked &= valid
    return marked.pop() if len(marked) == 1 else None


def read_answer(reply: Reply | str | None, letters: Iterable[str] = "ABCD"):
    """``(letter, None)`` from a reply's final answer, or ``(None, reason)``.

    ``reason`` is one of :data:`FAILURE_REASONS`: ``truncated`` when the server stopped at the
    token limit (``finish_reason == "length"``) with no letter in the final answer yet,
    ``empty`` when nothing is left outside reasoning, ``no letter`` otherwise.
    """
    if not isinstance(reply, Reply):
        reply = Reply(reply)
    text = reply.answer
    letter = parse_answer_letter(text, letters) if text else None
    if letter is not None:
        return letter, None
    if reply.truncated:
        return None, "truncated"
    return None, ("no letter" if text else "empty")
