"""Surface variety for offline items: who the patient is, how a case opens, the wording.

Nothing here names a disease, a symptom or a treatment: those come from the spec (its
structured sections, ``vignette_hints`` and ``phrasing``). The English frames below are
generic clinic language that reads the same for any disease.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from raresupport.spec import DiseaseSpec

#: One item under construction: case, question, key, distractors, rationale, fact_ids, and
#: optionally tags (list of str) and claim ("diagnosis" or "treatment": which claims fit).
Draft = dict[str, Any]

_OPENERS = [
    "{p} presents with", "{p} comes to clinic because of", "{p} is referred for",
    "{p} describes", "{p} asks for help with", "{p} is seen in primary care for",
    "{p} books an appointment about", "{p} reports",
]
FOLLOW_UP = ["attends follow-up", "returns for review", "calls the clinic", "is reviewed"]


def patient(rng: random.Random, spec: DiseaseSpec, *, adult: bool = False, older=False) -> str:
    """'A 34-year-old woman who works as a baker' within the spec's age range."""
    h = spec.vignette_hints
    lo = max(h.age_min, 26 if older else (18 if adult else h.age_min))
    hi = max(lo + 1, h.age_max if not older else max(h.age_max, 45))
    age = rng.randint(lo, hi)
    sex = rng.choice(h.sexes)
    if age < 18:
        sex = {"woman": "girl", "man": "boy"}.get(sex, sex)
        return f"A {age}-year-old {sex}"
    job = rng.choice(h.occupations) if h.occupations and rng.random() < 0.7 else None
    article = "an" if job and job[0].lower() in "aeiou" else "a"
    return f"A {age}-year-old {sex}" + (f" who works as {article} {job}" if job else "")


def opener(rng: random.Random, who: str) -> str:
    return rng.choice(_OPENERS).format(p=who)


def extras(rng: random.Random, spec: DiseaseSpec) -> str:
    """Zero to three sentences: a trigger, a setting, a past history (from the hints)."""
    h = spec.vignette_hints
    bits = []
    if h.triggers and rng.random() < 0.6:
        bits.append(f"It is worse with {rng.choice(h.triggers)}.")
    if h.settings and rng.random() < 0.6:
        bits.append(f"It is most troublesome {rng.choice(['at', 'during', 'in'])} "
                    f"{rng.choice(h.settings)}.")
    if h.comorbidities and rng.random() < 0.5:
        bits.append(f"Past history: {rng.choice(h.comorbidities)}.")
    rng.shuffle(bits)
    return " ".join(bits)


def sites(rng: random.Random, spec: DiseaseSpec, lo: int = 1, hi: int = 1) -> list[str]:
    """``lo``..``hi`` distinct sites of the spec, or the phrasing's ``no_site``."""
    if not spec.sites:
        return [spec.phrasing.no_site]
    return rng.sample(spec.sites, min(len(spec.sites), rng.randint(lo, hi)))


def at_site(rng: random.Random, spec: DiseaseSpec, where: Sequence[str]) -> str:
    """The complaint at sites in the spec's words: 'troublesome symptoms affecting the shins'."""
    ph = spec.phrasing
    named = " and ".join(site_name(spec, s) for s in where)
    return ph.at_site.format(intensity=rng.choice(ph.intensity), complaint=ph.complaint,
                             sites=named)


def site_name(spec: DiseaseSpec, site: str) -> str:
    """A site as a sentence names it (``phrasing.site_names``), else as the spec lists it."""
    return spec.phrasing.site_names.get(site, site)


def disease_at_site(spec: DiseaseSpec, site: str, disease: str | None = None) -> str:
    """The disease at one site in the spec's words: 'zebra syndrome affecting the shins'."""
    return spec.phrasing.disease_at_site.format(
        disease=disease or spec.name.lower(), site=site_name(spec, site),
        complaint=spec.phrasing.complaint,
    )


def stem(rng: random.Random, spec: DiseaseSpec, stems: Sequence[str], **fields: str) -> str:
    """One question stem, its placeholders filled (complaint and disease always available)."""
    values = {"complaint": spec.phrasing.complaint, "disease": spec.name.lower(), **fields}
    return rng.choice(stems).format_map(_Blank(values))


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        raise ValueError(f"phrasing: placeholder {{{key}}} is not available in this stem")


def primary_name(spec: DiseaseSpec) -> str:
    return (spec.diagnostic_criteria[0].name if spec.diagnostic_criteria else spec.name).lower()


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def lc(s: str) -> str:
    """Lower-case a leading capital unless it starts an acronym (``HDSS``, ``SSRI``)."""
    return s[:1].lower() + s[1:] if s[:2] != s[:2].upper() else s


def join(items: Sequence[str]) -> str:
    items = [lc(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
