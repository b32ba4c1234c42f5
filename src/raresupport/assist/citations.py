"""Check every citation the model writes against the spec; drop and flag the invented ones.

What counts as a citation:

* square brackets whose comma/semicolon-separated parts are each one id-shaped token, with an
  optional ``fact:`` / ``source:`` prefix: ``[2]``, ``[dx.clinical]``, ``[fact: tx.ionto,
  hornberger2004]``;
* parentheses holding such tokens when each one looks like an id (has a ``.``, ``-`` or ``_``
  inside, or mixes letters and digits): ``(dx.clinical)``, ``(hornberger2004)``. Ordinary
  asides such as ``(idiopathic)`` or ``(2004)`` are left alone.

A part is valid when it is a note number shown to the model (``1..n_notes``), a spec fact id
or a spec source id. Invalid parts are removed (the whole bracket when nothing valid is left).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from raresupport.spec import DiseaseSpec

_ID = r"[A-Za-z0-9][A-Za-z0-9_.\-]*"
_PART = rf"\s*(?:(?:fact|facts|source|sources|ref)\s*:\s*)?{_ID}\s*"
_BRACKET = re.compile(rf"\s?\[({_PART}(?:[,;]{_PART})*)\]")
_PAREN = re.compile(rf"\s?\(({_PART}(?:[,;]{_PART})*)\)")
_PREFIX = re.compile(r"^(?:fact|facts|source|sources|ref)\s*:\s*", re.I)
_ID_LIKE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)+$|^(?=.*[a-z])(?=.*\d)[a-z0-9]+$")


class CitationCheck(BaseModel):
    """Citations found in a model answer: the valid ones kept, the invented ones removed."""

    model_config = ConfigDict(frozen=True)

    valid: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()

    @property
    def hallucinated(self) -> bool:
        return bool(self.invalid)


def _parts(body: str) -> list[str]:
    return [_PREFIX.sub("", p.strip()) for p in re.split(r"[,;]", body)]


def check_citations(text: str, spec: DiseaseSpec, n_notes: int = 0) -> tuple[str, CitationCheck]:
    """Return ``text`` without invented citations, and what was found.

    Args:
        text: the model's answer.
        spec: the disease spec whose fact and source ids are the only valid ones.
        n_notes: how many numbered notes the model was shown (``[1]``..``[n]`` are valid).
    """
    known = spec.fact_ids | {s.id for s in spec.sources}
    notes = {str(i) for i in range(1, n_notes + 1)}
    valid: list[str] = []
    invalid: list[str] = []

    def fix(match: re.Match[str], strict: bool) -> str:
        parts = _parts(match.group(1))
        if not strict and not all(_ID_LIKE.match(p) for p in parts):
            return match.group(0)  # an ordinary parenthesis, not a citation
        keep = [p for p in parts if p in known or p in notes]
        valid.extend(keep)
        invalid.extend(p for p in parts if p not in keep)
        if not keep:
            return ""
        lead = " " if match.group(0).startswith(" ") else ""
        opener, closer = ("[", "]") if strict else ("(", ")")
        return f"{lead}{opener}{', '.join(keep)}{closer}"

    text = _BRACKET.sub(lambda m: fix(m, True), text)
    text = _PAREN.sub(lambda m: fix(m, False), text)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    return text, CitationCheck(
        valid=tuple(dict.fromkeys(valid)), invalid=tuple(dict.fromkeys(invalid))
    )
