"""Passages: the whole disease spec as short, retrievable texts that carry fact and source ids.

Every fact statement is one passage, and every structured entry (criteria, severity levels,
secondary causes, differentials, red flags, treatments, counseling points) is rendered as one
plain sentence or two. A passage names the fact ids it rests on, so a note shown to the model can
be traced to the spec, and its source ids are the union of those facts' sources.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from raresupport.spec.models import DiseaseSpec

_LINES = {1: "first-line", 2: "second-line", 3: "third-line (specialist)"}


class Passage(BaseModel):
    """One retrievable text from the spec.

    Attributes:
        id: ``"<kind>:<entry id>"``, unique within one spec.
        kind: ``fact``, ``criterion``, ``severity``, ``secondary_cause``, ``differential``,
            ``red_flag``, ``treatment`` or ``counseling``.
        text: what a note shows (one to three short sentences).
        fact_ids: spec fact ids the text rests on (never empty for a spec-built passage).
        source_ids: spec source ids of those facts.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    text: str
    fact_ids: tuple[str, ...]
    source_ids: tuple[str, ...]


def _join(items: list[str], last: str = "or") -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def build_passages(spec: DiseaseSpec) -> list[Passage]:
    """All passages of ``spec``: facts first, then each structured section in spec order.

    Args:
        spec: a validated disease spec.

    Returns:
        One passage per fact and per structured entry (per level for severity scales).
    """
    sources = {f.id: tuple(f.sources) for f in spec.facts}

    def make(pid: str, kind: str, text: str, fact_ids: list[str]) -> Passage:
        src: list[str] = []
        for fid in fact_ids:
            src.extend(s for s in sources.get(fid, ()) if s not in src)
        return Passage(id=pid, kind=kind, text=_sentence(text), fact_ids=tuple(fact_ids),
                       source_ids=tuple(src))  # fmt: skip

    out = [make(f"fact:{f.id}", "fact", f.statement, [f.id]) for f in spec.facts]
    for i, c in enumerate(spec.diagnostic_criteria):
        text = f"{c.name} diagnostic criteria: {_join(c.required, 'and')}"
        if c.supporting:
            text += f"; plus at least {c.min_supporting} of: {_join(c.supporting)}"
        out.append(make(f"criterion:{i}", "criterion", text, c.fact_ids))
    for s in spec.severity_scales:
        for lv in s.levels:
            text = f"{s.name} {lv.level} ({lv.label}): {lv.description}"
            out.append(make(f"severity:{s.id}.{lv.level}", "severity", text, s.fact_ids))
    for kind, section in (("secondary_cause", spec.secondary_causes),
                          ("differential", spec.differentials)):  # fmt: skip
        label = "Secondary cause" if kind == "secondary_cause" else "Differential diagnosis"
        for c in section:
            cat = f" ({c.category})" if c.category else ""
            text = f"{label}: {c.name}{cat}; suggested by {_join(c.features, 'and')}"
            out.append(make(f"{kind}:{c.id}", kind, text, c.fact_ids))
    for r in spec.red_flags:
        text = f"Red flag: {r.finding}. Action: {r.action}"
        out.append(make(f"red_flag:{r.id}", "red_flag", text, r.fact_ids))
    for t in spec.treatments:
        text = f"{t.name}: {t.drug_class}, {_LINES[t.line]} for {_join(t.sites)}"
        if t.adverse_effects:
            text += f"; adverse effects: {_join(t.adverse_effects, 'and')}"
        if t.contraindications:
            text += f"; avoid with {_join(t.contraindications)}"
        out.append(make(f"treatment:{t.id}", "treatment", text, t.fact_ids))
    for c in spec.counseling:
        situation = c.situation[:1].lower() + c.situation[1:]
        text = f"When {situation} ({c.impact}): {c.recommended}"
        out.append(make(f"counseling:{c.id}", "counseling", text, c.fact_ids))
    return out
