"""The emergency layer: general emergencies in the user's message, whatever the disease.

No disease spec lists every emergency a patient can mention (a heart attack, a stroke, thoughts
of suicide...), so the library ships a list of its own (``emergencies.yaml``, schema
:class:`~raresupport.spec.EmergencyKind`) and a spec may add to it (``emergencies``). The
assistant checks it before the spec's red flags and shows its message first.

Matching reuses the red-flag matcher's words (lower-cased, Snowball-stemmed; a phrase's words in
order with up to :data:`~raresupport.assist.rules.MAX_GAP` words between them), and unlike the
red-flag rules it reads two things around a match, because an emergency message that fires on
"I've never had chest pain" teaches people to ignore it:

* **negation**: a cue ("no", "not", "never", "without", "n't", ...) among the
  :data:`NEGATION_WINDOW` words before the match, in the same clause, silences it. A cue
  followed by "sure", "know", "idea", ... ("I don't know why but...") is not a negation, and
  neither is any cue in a clause that says "like this", "so bad" or "worst" ("I've never had
  pain like this").
* **the past**: a clause holding a past-time cue ("years ago", "last year", "went away", "used
  to", "as a child") silences every match in it. Past tense alone does not: "I had crushing
  chest pain an hour ago" still fires.

Clauses end at ``. ! ? ; :`` and new lines, and start again at "but", "however", "although",
"now", "today", "suddenly"... so "I had chest pain years ago but now..." is two clauses. A
match right before "about", "whether", "how", ... in the same clause, without a comma between
("confused about the dose"), is not a symptom.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict

from raresupport.assist.rules import MAX_GAP, words
from raresupport.errors import RareSupportError
from raresupport.spec import AllOf, DiseaseSpec, EmergencyKind

#: Words before a match searched for a negation cue.
NEGATION_WINDOW = 5
#: What ``{emergency}`` reads when no local number is configured.
REGION_NEUTRAL = "your local emergency number"

_NEGATIONS = ("no", "not", "never", "without", "nor", "neither", "none", "denies", "nobody")
#: A negation cue followed by one of these is a figure of speech, not a negation.
_PSEUDO_NEXT = ("sure", "know", "certain", "understand", "only", "just", "idea", "doubt", "one",
                "matter", "warning", "reason")  # fmt: skip
#: A clause with one of these compares, it does not deny ("never had pain like this").
_CANCEL = ("like this", "like that", "this bad", "so bad", "worst")
_PAST = (
    "years ago", "year ago", "months ago", "month ago", "weeks ago", "week ago", "years back",
    "last year", "last month", "last summer", "last winter", "in the past", "used to",
    "went away", "gone away", "cleared up", "got better", "resolved", "recovered from",
    "as a child", "as a kid", "as a teenager", "when I was younger", "when I was a child",
    "when I was a kid", "when I was little", "in my teens", "long ago", "while ago",
    "history of",
)  # fmt: skip
#: The word after a match that makes it a state of mind, not a symptom ("confused about").
_FIGURATIVE_NEXT = ("about", "whether", "why", "which", "how", "what", "through")

_CLAUSE_END = re.compile(r"[.!?;:\n]+")
_CLAUSE_START = re.compile(
    r"\b(?:but|however|although|though|whereas|except|now|today|tonight|suddenly)\b"
)
_CONTRACTIONS = (
    (re.compile(r"\b(?:can[’']?t|cannot|can not|couldn[’']?t|could not)\b"), "cannot"),
    (re.compile(r"\bwon[’']?t\b"), "will not"),
    (re.compile(r"\b(do|does|did|is|are|was|were|have|has|had|would|should|need|must)"
                r"n[’']?t\b"), r"\1 not"),  # fmt: skip
    (re.compile(r"\bain[’']?t\b"), "not"),
)


class EmergencyHit(BaseModel):
    """An emergency the layer found, its message for the patient and what triggered it."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    message: str
    action: str
    sources: tuple[str, ...]
    matched: tuple[str, ...]


class EmergencyLibrary(BaseModel):
    """The shipped list: the header shown above every emergency message, and the kinds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    header: str
    kinds: tuple[EmergencyKind, ...]


@lru_cache(maxsize=1)
def library() -> EmergencyLibrary:
    """The library's general emergencies (``raresupport/assist/emergencies.yaml``)."""
    text = resources.files("raresupport.assist").joinpath("emergencies.yaml").read_text("utf-8")
    return EmergencyLibrary.model_validate(yaml.safe_load(text))


def emergency_kinds(spec: DiseaseSpec | None = None) -> tuple[EmergencyKind, ...]:
    """The library's emergencies, then the ones ``spec`` adds.

    Raises:
        RareSupportError: a spec entry reuses a library id (extend with a new id instead).
    """
    base = library().kinds
    extra = tuple(spec.emergencies) if spec is not None else ()
    taken = {k.id for k in base}
    for i, kind in enumerate(extra):
        if kind.id in taken:
            raise RareSupportError(
                f"{spec.id}: emergencies[{i}].id: {kind.id!r} is a library emergency; "
                "give the disease's entry its own id"
            )
    return base + extra


def normalize(text: str) -> str:
    """Lower-case ``text`` and spell out contractions ("don't" -> "do not", "can't" ->
    "cannot"), so "can't breathe" stays a symptom while "don't have" becomes a negation."""
    text = text.lower()
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    return text


@lru_cache(maxsize=4096)
def _stems(phrase: str) -> tuple[str, ...]:
    return tuple(words(normalize(phrase)))


def _stem_set(phrases: Iterable[str]) -> frozenset[tuple[str, ...]]:
    return frozenset(s for p in phrases if (s := _stems(p)))


_NEG, _PSEUDO, _CANCELS, _PASTS, _FIG = (
    _stem_set(x) for x in (_NEGATIONS, _PSEUDO_NEXT, _CANCEL, _PAST, _FIGURATIVE_NEXT)
)


class _Text:
    """A message as stemmed tokens, each with the index of its clause."""

    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        self.clause: list[int] = []
        self.pause: set[int] = set()  # tokens followed by a comma or a clause end
        n = 0
        for sentence in _CLAUSE_END.split(normalize(text)):
            cuts = [0, *(m.start() for m in _CLAUSE_START.finditer(sentence)), len(sentence)]
            for a, b in zip(cuts, cuts[1:]):
                for piece in sentence[a:b].split(","):
                    toks = words(piece)
                    self.tokens += toks
                    self.clause += [n] * len(toks)
                    if toks:
                        self.pause.add(len(self.tokens) - 1)
                n += 1
        self._past = {c for c in set(self.clause) if self._clause_has(c, _PASTS)}
        self._cancel = {c for c in set(self.clause) if self._clause_has(c, _CANCELS)}

    def _clause_tokens(self, c: int) -> list[str]:
        return [t for t, k in zip(self.tokens, self.clause) if k == c]

    def _clause_has(self, c: int, cues: frozenset[tuple[str, ...]]) -> bool:
        toks = self._clause_tokens(c)
        return any(_find(cue, toks, 0) for cue in cues)

    def _negated(self, start: int) -> bool:
        c = self.clause[start]
        if c in self._cancel:
            return False
        lo = max(0, start - NEGATION_WINDOW)
        for i in range(lo, start):
            if self.clause[i] != c or (self.tokens[i],) not in _NEG:
                continue
            nxt = tuple(self.tokens[i + 1 : i + 3])
            if not any(nxt[: len(p)] == p for p in _PSEUDO):
                return True
        return False

    def affirmed(self, phrase: str) -> bool:
        """Does ``phrase`` occur at least once neither negated, in the past, nor figurative?"""
        pattern = _stems(phrase)
        for start, end in _find(pattern, self.tokens, MAX_GAP):
            if self.clause[start] in self._past or self._negated(start):
                continue
            if end not in self.pause and (self.tokens[end + 1],) in _FIG:
                continue
            return True
        return False


def _find(pattern: Sequence[str], tokens: Sequence[str], max_gap: int) -> list[tuple[int, int]]:
    """(first, last) token index of each occurrence of ``pattern`` in ``tokens``, its words in
    order with at most ``max_gap`` other words between two of them (nearest word first)."""
    spans = []
    if not pattern:
        return spans
    for start, tok in enumerate(tokens):
        if tok != pattern[0]:
            continue
        pos = start
        for word in pattern[1:]:
            window = tokens[pos + 1 : pos + 2 + max_gap]
            if word not in window:
                break
            pos = pos + 1 + list(window).index(word)
        else:
            spans.append((start, pos))
    return spans


def _matched(pattern: str | AllOf, text: _Text) -> tuple[str, ...]:
    """The phrases by which ``pattern`` fires in ``text`` (empty: it does not)."""
    if isinstance(pattern, str):
        return (pattern,) if text.affirmed(pattern) else ()
    found = []
    for group in pattern.all_of:
        hit = next((p for p in group if text.affirmed(p)), None)
        if hit is None:
            return ()
        found.append(hit)
    return (" + ".join(found),)


def emergency_text(template: str, number: str | None = None) -> str:
    """``template`` with ``{emergency}`` as ``number``, or the region-neutral wording."""
    return template.format(emergency=number.strip() if number and number.strip() else
                           REGION_NEUTRAL)  # fmt: skip


def match_emergencies(
    text: str, kinds: Sequence[EmergencyKind] | None = None, number: str | None = None
) -> list[EmergencyHit]:
    """The emergencies ``text`` describes, in list order.

    Args:
        text: the user's message.
        kinds: what to look for; default the library's (:func:`emergency_kinds` adds a spec's).
        number: the local emergency number put in the messages (None: region-neutral words).
    """
    parsed = _Text(text)
    hits = []
    for kind in library().kinds if kinds is None else kinds:
        matched = tuple(m for p in kind.patterns for m in _matched(p, parsed))
        if matched:
            hits.append(EmergencyHit(
                id=kind.id, name=kind.name, message=emergency_text(kind.message, number),
                action=kind.action, sources=tuple(kind.sources), matched=matched,
            ))  # fmt: skip
    return hits


def emergency_block(hits: Sequence[EmergencyHit], number: str | None = None) -> str:
    """The text the assistant shows first: the header, then each emergency's message."""
    if not hits:
        return ""
    lines = [emergency_text(library().header, number)]
    lines += [f"- {h.name}: {h.message}" for h in hits]
    return "\n".join(lines)
