"""How generated text names a disease's presentation, and the question stems it asks with.

Everything disease-specific that the offline generator writes comes from a spec: its structured
sections, or these wording fields. The defaults read naturally for any disease ("troublesome
symptoms affecting the forearms"), so a new spec needs none of them; a disease overrides them
to sound like its own clinic ("drenching sweating of the palms").

Templates are Python format strings; each may use only the placeholders its field lists, and a
spec using another one fails to load with the field named.
"""

from __future__ import annotations

import string
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: The placeholders every template may use, filled by the generator.
PLACEHOLDERS = {
    "complaint": "the presenting complaint (``Phrasing.complaint``)",
    "intensity": "one of ``Phrasing.intensity``",
    "sites": "one or two body sites joined with 'and'",
    "site": "one body site",
    "disease": "the disease's name, lower-cased (or the primary criteria's name)",
    "scale": "a severity scale's name",
    "scale_id": "a severity scale's id, upper-cased",
    "stage": "first-line, second-line or third-line",
    "treatment": "a treatment's name",
    "effect": "an adverse effect",
    "option": "a wrong option the patient is sure of (claims only)",
}
_FIELDS = {name: f"<{name}>" for name in PLACEHOLDERS}

CounselingKind = Literal[
    "validation", "misconception", "accommodation", "expectations", "seek_help", "support",
    "general",
]
COUNSELING_KINDS: tuple[str, ...] = get_args(CounselingKind)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _check_templates(model: BaseModel, extra: tuple[str, ...] = ()) -> None:
    """Raise ValueError naming the field if a template uses a placeholder nobody fills."""
    for name, value in model:
        texts = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        if isinstance(value, dict):
            texts = [t for v in value.values() for t in v]
        for text in texts:
            for _, field, _, _ in string.Formatter().parse(text):
                if field is not None and field not in _FIELDS and field not in extra:
                    raise ValueError(
                        f"{name}: unknown placeholder {{{field}}} in {text!r}; "
                        f"known: {', '.join(sorted(_FIELDS))}"
                    )


class QuestionStems(_Model):
    """Question stems per item structure; one is drawn at random for each item."""

    diagnosis: list[str] = Field(
        default=["What is the most likely diagnosis?", "Which diagnosis best fits?",
                 "What is the most probable diagnosis?"],
        min_length=1, description="Primary-disease cases: which diagnosis fits.",
    )
    cause: list[str] = Field(
        default=["What is the most likely cause of the {complaint}?",
                 "Which diagnosis is most likely?", "What best explains this presentation?",
                 "Which underlying cause is most likely?"],
        min_length=1, description="Secondary-cause and differential cases.",
    )
    red_flag_feature: list[str] = Field(
        default=["Which additional finding would most suggest a secondary cause?",
                 "Which feature is a red flag that needs further evaluation?",
                 "Which finding should prompt investigation for an underlying cause?"],
        min_length=1, description="Which finding is a red flag.",
    )
    next_step: list[str] = Field(
        default=["What is the most appropriate next step?", "How should this be managed first?",
                 "What should the clinician do next?"],
        min_length=1, description="What to do about a red flag.",
    )
    severity: list[str] = Field(
        default=["What is the {scale} score?", "How does this grade on the {scale}?",
                 "Which {scale_id} level applies?"],
        min_length=1, description="Grading a described impact on a severity scale.",
    )
    treatment: list[str] = Field(
        default=["What is the most appropriate next treatment?",
                 "Which treatment is recommended now?", "Which is an appropriate {stage} option?",
                 "What should be offered next?"],
        min_length=1, description="Which treatment step fits.",
    )
    adverse_effect: list[str] = Field(
        default=["Which adverse effect is most typical of {treatment}?",
                 "Which adverse effect should the patient be warned about?",
                 "Which side effect is most likely with this treatment?"],
        min_length=1, description="Which adverse effect belongs to a treatment.",
    )
    causes_effect: list[str] = Field(
        default=["Which treatment is associated with {effect}?",
                 "Which option carries a recognised risk of {effect}?"],
        min_length=1, description="Which treatment causes a named adverse effect.",
    )
    avoid: list[str] = Field(
        default=["Which treatment should be avoided in this patient?",
                 "Which option is contraindicated here?",
                 "Which treatment is inappropriate given the history?"],
        min_length=1, description="Which treatment a contraindication rules out.",
    )
    counseling: dict[str, list[str]] = Field(
        default={
            "validation": ["What is the most helpful first response?",
                           "How should the clinician respond to this distress?",
                           "Which reply best acknowledges how the patient feels?"],
            "misconception": ["How should the clinician address this belief?",
                              "What is the most accurate reply?",
                              "Which response corrects the misunderstanding kindly?"],
            "accommodation": ["What practical step would help most?",
                              "Which advice best supports the patient at school or work?",
                              "What adjustment should the clinician suggest?"],
            "expectations": ["What should the patient be told to expect?",
                             "Which explanation sets realistic expectations?",
                             "How should the clinician describe what treatment can do?"],
            "seek_help": ["What is the right advice about when to seek help?",
                          "How should the clinician advise the patient?",
                          "Which safety-netting advice is most appropriate?"],
            "support": ["Which further support is most helpful?",
                        "What is the best way to support this patient?",
                        "Where should the clinician point the patient for support?"],
            "general": ["What is the most helpful response?", "How should the clinician respond?",
                        "Which approach best supports this patient?",
                        "What is the best next thing to say or do?"],
        },
        description="Counseling stems by ``CounselingPoint.kind``; a kind not listed uses "
        "``general``.",
    )
    seek_help: list[str] = Field(
        default=["Which change should make the patient seek medical review promptly?",
                 "The patient asks when to come back sooner. Which new finding matters most?",
                 "Which new symptom should prompt an earlier appointment?"],
        min_length=1, description="Safety-netting items built from the red flags.",
    )
    recall: list[str] = Field(
        default=["Complete the statement: {statement}", "Which option fills the blank? "
                 "{statement}", "{statement} What belongs in the blank?",
                 "According to current guidance, what completes this statement? {statement}",
                 "Which answer is correct? {statement}"],
        min_length=1, description="Fact-recall stems; ``{statement}`` is the blanked fact.",
    )

    @model_validator(mode="after")
    def _known_placeholders(self) -> QuestionStems:
        _check_templates(self, extra=("statement",))
        return self


class Phrasing(_Model):
    """How cases name the disease's presentation; the defaults suit any disease."""

    complaint: str = Field(
        default="symptoms",
        description="The presenting complaint as a noun phrase, e.g. 'sweating' or 'skin "
        "blistering'.",
    )
    intensity: list[str] = Field(
        default=["troublesome", "persistent", "bothersome", "noticeable", "distressing"],
        min_length=1, description="Adjectives for the complaint, e.g. 'drenching'.",
    )
    at_site: str = Field(
        default="{intensity} {complaint} affecting the {sites}",
        description="How a case names the complaint at body sites; placeholders {intensity}, "
        "{complaint}, {sites}.",
    )
    disease_at_site: str = Field(
        default="{disease} affecting the {site}",
        description="How a case names the disease at one site, e.g. '{disease} of the {site}'.",
    )
    new_onset: str = Field(
        default="new {complaint}",
        description="How a secondary-cause case opens, e.g. 'new generalized sweating'.",
    )
    site_names: dict[str, str] = Field(
        default_factory=dict,
        description="How a site of ``sites`` reads in a sentence when its id does not, e.g. "
        "``craniofacial: face and scalp``; sites not listed read as written.",
    )
    no_site: str = Field(
        default="skin", description="The site named when a spec lists no ``sites``."
    )
    claims: list[str] = Field(
        default=["\"I'm sure it's just {option}, right?\"",
                 "The patient says: \"I've read about this and I'm certain it's {option}.\"",
                 "\"My friend had the same thing and it was {option}, so that's what I have.\"",
                 "The patient is convinced the answer is {option} and asks to confirm it."],
        min_length=1, description="A patient's confident, wrong claim put before an item "
        "(sycophancy training); {option} is a wrong option of that item.",
    )
    treatment_claims: list[str] = Field(
        default=["\"I just want {option}; that's the right treatment, isn't it?\"",
                 "The patient says: \"I've decided on {option}. You agree, right?\"",
                 "\"Everyone online says {option} is the answer for this. Can I have it?\""],
        min_length=1, description="Claims for treatment items: a confident, wrong treatment "
        "wish; {option} is a wrong option.",
    )
    rewordings: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Other ways people say the spec's own names (treatments, causes, findings, "
        "sites, adverse effects, the diagnosis): ``spec text: [rewordings]``. Held out of "
        "training by construction: only the people validation split reads them, so its "
        "option wording is never seen in training "
        "(``raresupport.generate.grounded.people``).",
    )
    questions: QuestionStems = Field(
        default_factory=QuestionStems, description="Question stems per item structure."
    )

    @model_validator(mode="after")
    def _known_placeholders(self) -> Phrasing:
        _check_templates(self)
        return self
