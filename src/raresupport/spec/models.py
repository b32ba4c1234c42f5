"""DiseaseSpec: the typed description of one rare disease that everything else is grounded in.

Facts are the atoms: every generated vignette cites the fact ids it rests on, and every fact
cites its sources. The structured sections (criteria, scales, causes, treatments, counseling)
reference facts by id so generators can draw keys *and* plausible distractors from them.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from raresupport.chat import DEFAULT_SYSTEM_PROMPT
from raresupport.spec.emergency import EmergencyKind
from raresupport.spec.phrasing import CounselingKind, Phrasing

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

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Stable id that facts cite, e.g. 'nice-cks' (lower case, digits, - and _).",
    )
    title: str = Field(min_length=3, description="Title of the guideline, review or page.")
    authors: str = Field(min_length=2, description="Organisation or authors.")
    year: int = Field(ge=1900, le=2100, description="Year of publication or last update.")
    url: str = Field(pattern=r"^https?://", description="Where a reader can check it.")


class Fact(_Model):
    """One checkable statement with a stable id."""

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="Stable id, e.g. 'tx.ionto'; items and passages cite it.",
    )
    statement: str = Field(min_length=10, description="The fact in one plain sentence.")
    topic: Topic = Field(description="Which kind of fact; decides the task its recall items "
                         "are asked under.")
    sources: list[str] = Field(min_length=1, description="Ids of ``sources`` that support it.")
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
    fact_ids: list[str] = Field(
        min_length=1, description="Ids of the facts this entry rests on; items built from it "
        "cite them.",
    )


class DiagnosticCriteria(_Grounded):
    """Required findings plus ``min_supporting`` of the supporting features."""

    name: str = Field(description="The diagnosis these criteria establish; the key of "
                      "diagnosis items.")
    required: list[str] = Field(min_length=1, description="Findings that must all be present.")
    supporting: list[str] = Field(
        default_factory=list, description="Supporting features; also the ordinary findings "
        "that red-flag items use as distractors."
    )
    min_supporting: int = Field(
        default=0, ge=0, description="How many supporting features the criteria need."
    )

    @model_validator(mode="after")
    def _enough_features(self) -> DiagnosticCriteria:
        if self.min_supporting > len(self.supporting):
            raise ValueError("min_supporting exceeds the number of supporting features")
        return self


class SeverityLevel(_Model):
    """One level of a severity scale."""

    level: int = Field(ge=0, description="The score, e.g. 3.")
    label: str = Field(description="A short name, e.g. 'moderate'.")
    description: str = Field(description="What a patient at this level says or shows.")


class SeverityScale(_Grounded):
    """A graded scale (e.g. a disease severity scale) whose levels items ask to assign."""

    id: str = Field(description="Short id, shown upper-cased in options, e.g. 'hdss'.")
    name: str = Field(description="Full name of the scale.")
    question: str = Field(default="", description="The question the scale asks the patient.")
    levels: list[SeverityLevel] = Field(min_length=2, description="The levels, lowest first.")
    interpretation: str = Field(default="", description="How scores guide care.")


class Cause(_Grounded):
    """A secondary cause or a differential diagnosis and what tells it apart."""

    id: str = Field(description="Stable id within its section.")
    name: str = Field(description="The cause or differential diagnosis; the key of its items.")
    category: str = Field(default="", description="A grouping, e.g. 'drug' or 'endocrine'.")
    features: list[str] = Field(min_length=1, description="Distinguishing features.")


class RedFlag(_Grounded):
    """A finding that points away from the primary disease, and what to do about it."""

    id: str = Field(description="Stable id within ``red_flags``.")
    finding: str = Field(description="The finding, e.g. 'Sweating during sleep'.")
    action: str = Field(description="What the clinician should do; the key of next-step items.")
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

    not_a_diagnosis: str = Field(
        DEFAULT_NOT_A_DIAGNOSIS, min_length=10,
        description="Shown after every answer: this is information, not a diagnosis.",
    )
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
    """One treatment with where and when it is used, what it causes and what rules it out."""

    id: str = Field(description="Stable id within ``treatments``.")
    name: str = Field(description="Name as an option shows it.")
    drug_class: str = Field(alias="class", description="Drug class or kind of procedure.")
    sites: list[str] = Field(min_length=1, description="Body sites it treats (from ``sites``).")
    line: Literal[1, 2, 3] = Field(description="Place on the treatment ladder: 1, 2 or 3.")
    adverse_effects: list[str] = Field(default_factory=list, description="Known adverse "
                                       "effects, short phrases.")
    contraindications: list[str] = Field(
        default_factory=list, description="Conditions that rule it out. Matched as whole words "
        "in a case's text: no generated item offers this treatment as the answer for a patient "
        "whose history names one.",
    )
    notes: str = Field(default="", description="One sentence shown in rationales.")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class CounselingPoint(_Grounded):
    """A psychosocial situation, the supportive response, and tempting wrong responses."""

    id: str = Field(description="Stable id within ``counseling``.")
    kind: CounselingKind = Field(
        default="general",
        description="Which counseling structure it trains: validation (of distress), "
        "misconception (correcting one), accommodation (school or work), expectations (about "
        "treatment), seek_help (when to come back), support (groups, organisations) or general.",
    )
    situation: str = Field(description="What the patient says or does, one sentence.")
    impact: str = Field(description="What it costs the patient; shown in the rationale.")
    recommended: str = Field(description="The supportive, evidence-based response (the key).")
    avoid: list[str] = Field(min_length=3, description="Plausible but wrong responses.")


class VignetteHints(_Model):
    """Surface variety for generated cases (who, where, what triggers)."""

    age_min: int = Field(default=12, ge=0, description="Youngest generated patient (years).")
    age_max: int = Field(default=70, ge=1, description="Oldest generated patient (years).")
    sexes: list[str] = Field(default_factory=lambda: ["woman", "man"],
                             description="Nouns for patients; under 18 becomes girl/boy.")
    occupations: list[str] = Field(default_factory=list, description="Jobs patients have.")
    settings: list[str] = Field(default_factory=list,
                                description="Where the complaint troubles them most.")
    triggers: list[str] = Field(default_factory=list, description="What makes it worse.")
    comorbidities: list[str] = Field(
        default_factory=list, description="Past history a case may mention; checked against "
        "treatment contraindications.",
    )

    @model_validator(mode="after")
    def _age_range(self) -> VignetteHints:
        if self.age_min > self.age_max:
            raise ValueError(f"age_min: {self.age_min} is above age_max {self.age_max}")
        return self


class DiseaseSpec(_Model):
    """Everything the library knows about one disease, with sources."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$",
                    description="Package-wide id, e.g. 'hyperhidrosis'.")
    name: str = Field(description="The disease's name as text shows it.")
    synonyms: list[str] = Field(default_factory=list, description="Other names.")
    icd10: list[str] = Field(default_factory=list, description="ICD-10(-CM) codes.")
    icd11: list[str] = Field(default_factory=list, description="ICD-11 codes.")
    definition: str = Field(min_length=10, description="One-paragraph definition.")
    prevalence: str = Field(default="", description="Prevalence in words, with its population.")
    system_prompt: str = Field(
        default=DEFAULT_SYSTEM_PROMPT,
        description="System prompt for training and evaluation on this disease.",
    )
    sites: list[str] = Field(default_factory=list, description="Body sites treatments target.")
    lay_terms: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Patient words for the spec's own words, ``spec words: [patient words]`` "
        "(``axillae axillary: [armpits, underarms]``, ``botulinum toxin: [Botox]``). Retrieval "
        "reads a question using a patient word as if it also used the spec words (query "
        "expansion), and a patient word marks a question as being about the disease (the "
        "relevance gate), so list only words a general-medicine question would not use. "
        "One word each, letters only (the retriever splits words at hyphens and apostrophes).",
    )  # fmt: skip
    facts: list[Fact] = Field(min_length=1, description="The sourced facts everything cites.")
    diagnostic_criteria: list[DiagnosticCriteria] = Field(
        default_factory=list, description="Criteria for the primary disease (first = main)."
    )
    severity_scales: list[SeverityScale] = Field(default_factory=list,
                                                 description="Validated severity scales.")
    secondary_causes: list[Cause] = Field(
        default_factory=list, description="Underlying causes that produce the same complaint."
    )
    differentials: list[Cause] = Field(default_factory=list,
                                       description="Other conditions it is confused with.")
    red_flags: list[RedFlag] = Field(default_factory=list,
                                     description="Findings that need escalation, with action.")
    emergencies: list[EmergencyKind] = Field(
        default_factory=list,
        description="General emergencies this disease adds to the library's list (acute "
        "coronary syndrome, stroke, suicidal thoughts, ... are built in): same schema, each "
        "with its sources. The assistant's emergency layer checks them before ``red_flags``.",
    )
    treatments: list[Treatment] = Field(default_factory=list, description="The treatment ladder.")
    counseling: list[CounselingPoint] = Field(
        default_factory=list, description="Psychosocial situations with supportive responses."
    )
    vignette_hints: VignetteHints = Field(default_factory=VignetteHints,
                                          description="Surface variety for generated cases.")
    assistant: AssistantText = Field(
        default_factory=AssistantText,
        description="What the support assistant says around the model's answer.",
    )
    sources: list[Source] = Field(min_length=1, description="Everything facts cite.")
    phrasing: Phrasing = Field(
        default_factory=Phrasing, description="How generated text names the presentation, "
        "and the question stems; defaults suit any disease.",
    )

    @field_validator("lay_terms")
    @classmethod
    def _lay_terms_are_words(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for term, words in v.items():
            for j, word in enumerate(words):
                if not re.fullmatch(r"[^\W\d_]+", word.strip()):
                    raise ValueError(f"{term}[{j}]: {word!r} is not one word")
        return v

    @model_validator(mode="after")
    def _references_resolve(self) -> DiseaseSpec:
        _unique(self.facts, "facts")
        _unique(self.sources, "sources")
        _unique(self.emergencies, "emergencies")
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
        for site in self.phrasing.site_names:
            if site not in self.sites:
                raise ValueError(
                    f"phrasing.site_names: {site!r} is not one of sites {self.sites}"
                )
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
