"""Safety rules over a spec that generators and validation share.

One rule today: a treatment is never the answer for a patient whose case names one of its
contraindications (for example propranolol for someone with asthma), unless the question asks
which treatment to avoid.
"""

from __future__ import annotations

import re

from raresupport.spec.models import DiseaseSpec, Treatment

#: Question wording that asks for the option to avoid, so a contraindicated key is correct there.
_ASKS_AVOID = re.compile(
    r"\b(avoid\w*|contraindicat\w*|inappropriate|unsafe|not be (used|offered|given|recommended))\b",
    re.IGNORECASE,
)


def mentions(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words, ignoring case."""
    return re.search(rf"(?<!\w){re.escape(phrase.strip())}(?!\w)", text, re.IGNORECASE) is not None


def treatment_named(spec: DiseaseSpec, name: str) -> Treatment | None:
    """The treatment whose name is exactly ``name`` (ignoring case and edge spaces), if any."""
    wanted = name.strip().lower()
    return next((t for t in spec.treatments if t.name.strip().lower() == wanted), None)


def contraindications_in(spec: DiseaseSpec, option: str, text: str) -> list[str]:
    """The contraindications of the treatment named ``option`` that ``text`` mentions.

    Empty when ``option`` is not a treatment of the spec or nothing in ``text`` rules it out.
    """
    treatment = treatment_named(spec, option)
    if treatment is None:
        return []
    return [c for c in treatment.contraindications if mentions(text, c)]


def asks_to_avoid(question: str) -> bool:
    """Whether a question asks which option to avoid (then a contraindicated key is right)."""
    return _ASKS_AVOID.search(question) is not None
