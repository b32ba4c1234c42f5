"""The rule layer: red-flag phrases in the user's message, matched without any model.

Patterns come from the spec (``red_flags[].patterns``). A pattern matches when its words occur
in the message in the same order, after lower-casing and Snowball stemming ("sweats",
"sweating" -> "sweat"), with at most :data:`MAX_GAP` other words between two of them
("lost a lot of weight" matches "lost weight"). Negation is deliberately not parsed: a
false alarm costs one extra paragraph, a missed red flag can cost a diagnosis.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from raresupport.spec import DiseaseSpec

#: Most other words allowed between two consecutive words of a pattern.
MAX_GAP = 3
_WORD = re.compile(r"[a-z0-9]+")


class RedFlagHit(BaseModel):
    """A red flag the rule layer found, with the phrases that triggered it."""

    model_config = ConfigDict(frozen=True)

    id: str
    finding: str
    action: str
    fact_ids: tuple[str, ...]
    matched: tuple[str, ...]


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError("the red-flag rules need PyStemmer: pip install PyStemmer") from exc
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens of ``text``."""
    return _stemmer().stemWords(_WORD.findall(text.lower()))


def _occurs(pattern: list[str], tokens: list[str], max_gap: int = MAX_GAP) -> bool:
    """Do ``pattern``'s words occur in order in ``tokens`` with small gaps between them?"""
    for start, tok in enumerate(tokens):
        if tok != pattern[0]:
            continue
        pos, ok = start, True
        for word in pattern[1:]:
            window = tokens[pos + 1 : pos + 2 + max_gap]
            if word not in window:
                ok = False
                break
            pos = pos + 1 + window.index(word)
        if ok:
            return True
    return False


def match_red_flags(spec: DiseaseSpec, text: str) -> list[RedFlagHit]:
    """The spec's red flags whose patterns occur in ``text``, in spec order."""
    tokens = words(text)
    hits = []
    for flag in spec.red_flags:
        matched = tuple(p for p in flag.patterns if (w := words(p)) and _occurs(w, tokens))
        if matched:
            hits.append(
                RedFlagHit(
                    id=flag.id, finding=flag.finding, action=flag.action,
                    fact_ids=tuple(flag.fact_ids), matched=matched,
                )
            )  # fmt: skip
    return hits
