"""DiseaseSpec: the typed description of one rare disease that everything else is grounded in.

Facts are the atoms: every generated vignette cites the fact ids it rests on, and every fact
cites its sources. The structured sections (criteria, scales, causes, treatments, counseling)
reference facts by id so generators can draw keys *and* plausible distractors from them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from raresupport.chat import DEFAULT_SYSTEM_PROMPT

Topic = Literal[
    "definition",
    "epidemiology",
    "pathophysiology",
    "diagnosis",
    "severity",
    "secondary",
    "red_flag",
    "differential",
    "treatment",
    "adverse_effect",
    "counseling",
    "prognosis",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Source(_Model):
    """A guideline, review or consensus statement that facts cite."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = Field(min_length=3)
    authors: str = Field(min_length=2, description="Organisation or authors.")
    year: int = Field(ge=1900, le=2100)
    url: str = Field(pattern=r"^https?://")


class Fact(_Model):
    """One checkable statement with a stable id."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    statement: str = Field(min_length=10)
    topic: Topic
    sources: list[str] = Field(min_length=1)
    keys: list[str] = Field(
        default_factory=list,
        description="Spans of the statement a question can ask for (exact substrings). Offline "
        "generation blanks each one out to make fact-recall items, so every fact is trained, "
        "not only those the structured sections reach.",
    )

    @model_validator(mode="after")
    def _keys_in_statement(self) -> Fact:
        for j, key in enumerate(self.keys):
            if not key.strip():
                raise ValueError(f"keys[{j}]: empty key")
            if key not in self.statement:
                raise ValueError(f"keys[{j}]: {key!r} is not part of the statement")
        return self


class _Grounded(_Model):
    fact_ids: list[str] = Field(min_length=1)


class DiagnosticCriteria(_Grounded):
    """Required findings plus ``min_supporting`` of the supporting features."""

    name: str
    required: list[str] = Field(min_length=1)
    supporting: list[str] = Field(default_factory=list)
    min_supporting: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _enough_features(self) -> DiagnosticCriteria:
        if self.min_supporting > len(self.supporting):
            raise ValueError("min_supporting exceeds the number of supporting features")
        return self


class SeverityLevel(_Model):
    level: int = Field(ge=0)
    label: str
    description: str


class SeverityScale(_Grounded):
    id: str
    name: str
    question: str = ""
    levels: list[SeverityLevel] = Field(min_length=2)
    interpretation: str = ""


class Cause(_Grounded):
    """A secondary cause or a differential diagnosis and what tells it apart."""

    id: str
    name: str
    category: str = ""
    features: list[str] = Field(min_length=1, description="Distinguishing features.")


class RedFlag(_Grounded):
    """A finding that points away from the primary disease, and what to do about it."""

    id: str
    finding: str
    action: str
    patterns: list[str] = Field(
        default_factory=list,
        description="Phrases and synonyms a patient might write for this finding (e.g. 'night "
        "sweats', 'wake up soaked'). The support assistant's rule layer matches them word by "
        "word after stemming, case-insensitively, and then gives this entry's action first, "
        "whatever the model says.",
    )

    @field_validator("patterns")
    @classmethod
    def _patterns_have_words(cls, v: list[str]) -> list[str]:
        for j, pattern in enumerate(v):
            if not any(ch.isalnum() for ch in pattern):
                raise ValueError(f"[{j}]: pattern {pattern!r} has no words")
        return v


DEFAULT_NOT_A_DIAGNOSIS = (
    "This is general information about {disease}, not a diagnosis or medical advice for you. "
    "Please talk to a doctor or nurse about your own situation."
)
DEFAULT_URGENT_REFERRAL = (
    "Important: some of what you describe can be a sign of another condition, not just "
    "{disease}. Please see a doctor soon to have it checked:"
)


class AssistantText(_Model):
    """What the support assistant says around the model's answer, per disease.

    ``{disease}`` in either text is replaced by the disease name.
    """

    not_a_diagnosis: str = Field(DEFAULT_NOT_A_DIAGNOSIS, min_length=10)
    urgent_referral: str = Field(
        DEFAULT_URGENT_REFERRAL,
        min_length=10,
        description="Shown first, above the matched red flags' actions.",
    )

    @field_validator("not_a_diagnosis", "urgent_referral")
    @classmethod
    def _only_disease_placeholder(cls, v: str) -> str:
        try:
            v.format(disease="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only the placeholder {{disease}} is allowed ({exc})") from None
        return v


class Treatment(_Grounded):
    id: str
    name: str
    drug_class: str = Field(alias="class")
    sites: list[str] = Field(min_length=1)
    line: Literal[1, 2, 3]
    adverse_effects: list[str] = Field(default_factory=list)
    contraindications: list[str] = Field(default_factory=list)
    notes: str = ""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class CounselingPoint(_Grounded):
    """A psychosocial situation, the supportive response, and tempting wrong responses."""

    id: str
    situation: str
    impact: str
    recommended: str
    avoid: list[str] = Field(min_length=3, description="Plausible but wrong responses.")


class VignetteHints(_Model):
    """Surface variety for generated cases (who, where, what triggers)."""

    age_min: int = Field(default=12, ge=0)
    age_max: int = Field(default=70, ge=1)
    sexes: list[str] = Field(default_factory=lambda: ["woman", "man"])
    occupations: list[str] = Field(default_factory=list)
    settings: list[str] = Field(default_factory=list)
    triggers: list[str] = Field(default_factory=list)
    comorbidities: list[str] = Field(default_factory=list)


class DiseaseSpec(_Model):
    """Everything the library knows about one disease, with sources."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    synonyms: list[str] = Field(default_factory=list)
    icd10: list[str] = Field(default_factory=list)
    icd11: list[str] = Field(default_factory=list)
    definition: str = Field(min_length=10)
    prevalence: str = ""
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    sites: list[str] = Field(default_factory=list, description="Body sites treatments target.")
    facts: list[Fact] = Field(min_length=1)
    diagnostic_criteria: list[DiagnosticCriteria] = Field(default_factory=list)
    severity_scales: list[SeverityScale] = Field(default_factory=list)
    secondary_causes: list[Cause] = Field(default_factory=list)
    differentials: list[Cause] = Field(default_factory=list)
    red_flags: list[RedFlag] = Field(default_factory=list)
    treatments: list[Treatment] = Field(default_factory=list)
    counseling: list[CounselingPoint] = Field(default_factory=list)
    vignette_hints: VignetteHints = Field(default_factory=VignetteHints)
    assistant: AssistantText = Field(default_factory=AssistantText)
    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> DiseaseSpec:
        _unique(self.facts, "facts")
        _unique(self.sources, "sources")
        source_ids = {s.id for s in self.sources}
        for i, fact in enumerate(self.facts):
            for j, sid in enumerate(fact.sources):
                if sid not in source_ids:
                    raise ValueError(f"facts[{i}].sources[{j}]: unknown source id {sid!r}")
        fact_ids = self.fact_ids
        for section in (
            "diagnostic_criteria", "severity_scales", "secondary_causes",
            "differentials", "red_flags", "treatments", "counseling",
        ):
            for i, item in enumerate(getattr(self, section)):
                for j, fid in enumerate(item.fact_ids):
                    if fid not in fact_ids:
                        raise ValueError(f"{section}[{i}].fact_ids[{j}]: unknown fact id {fid!r}")
        for i, t in enumerate(self.treatments):
            for j, site in enumerate(t.sites):
                if self.sites and site not in self.sites:
                    raise ValueError(
                        f"treatments[{i}].sites[{j}]: {site!r} is not one of sites {self.sites}"
                    )
        return self

    @property
    def fact_ids(self) -> set[str]:
        return {f.id for f in self.facts}

    def fact(self, fact_id: str) -> Fact:
        for f in self.facts:
            if f.id == fact_id:
                return f
        raise KeyError(fact_id)


def _unique(items: list, section: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.id in seen:
            raise ValueError(f"{section}[{i}].id: duplicate id {item.id!r}")
        seen.add(item.id)
