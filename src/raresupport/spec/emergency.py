"""The schema of a general emergency: what a patient writes, what to tell them, who says so.

The library ships a list of emergencies that do not depend on any disease
(``raresupport/assist/emergencies.yaml``); a disease spec may add its own under ``emergencies``
with the same schema. The schema lives here, below both, so the spec can validate its entries
without importing the assistant.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: The one placeholder an emergency message may use: the local number or a region-neutral
#: "your local emergency number".
EMERGENCY_PLACEHOLDER = "{emergency}"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _has_words(pattern: str, where: str) -> None:
    if not any(ch.isalnum() for ch in pattern):
        raise ValueError(f"{where}: pattern {pattern!r} has no words")


class AllOf(_Model):
    """Phrases that must co-occur anywhere in one message, one from each group.

    ``all_of: [[insulin, diabetic], [shaky, confused]]`` fires on "my dad is diabetic and is
    suddenly shaky", but neither on "I am diabetic" nor on "I feel shaky" alone: each half is
    ordinary, together they describe a low blood sugar.
    """

    all_of: list[list[str]] = Field(min_length=2, description="Groups of alternative phrases; "
                                    "one phrase of every group must occur (not negated).")

    @field_validator("all_of")
    @classmethod
    def _groups_have_words(cls, v: list[list[str]]) -> list[list[str]]:
        for i, group in enumerate(v):
            if not group:
                raise ValueError(f"[{i}]: empty group")
            for j, phrase in enumerate(group):
                _has_words(phrase, f"[{i}][{j}]")
        return v


Pattern = str | AllOf


class EmergencyCases(_Model):
    """Patient-voiced parts the evaluation generator combines into cases of this emergency.

    ``templates`` use ``{slot}`` placeholders filled from ``parts``; ``nouns`` are the symptom
    as a noun phrase ("crushing chest pain"), used to build negated and past-tense versions
    ("I don't have crushing chest pain") that must not fire.
    """

    templates: list[str] = Field(min_length=1, description="Case sentences with {slot}s.")
    parts: dict[str, list[str]] = Field(default_factory=dict, description="Words per slot.")
    nouns: list[str] = Field(min_length=1, description="The symptom as noun phrases.")

    @model_validator(mode="after")
    def _slots_filled(self) -> EmergencyCases:
        import string

        for i, template in enumerate(self.templates):
            for _, slot, _, _ in string.Formatter().parse(template):
                if slot is not None and slot not in self.parts:
                    raise ValueError(f"templates[{i}]: no parts for slot {{{slot}}}")
        for slot, words in self.parts.items():
            if not words:
                raise ValueError(f"parts.{slot}: empty")
        return self


class EmergencyKind(_Model):
    """One general emergency: its patient words, the urgent message, and its sources.

    The message is the assistant's, shown before anything else when a pattern fires; write it
    in your own words (not a quote), region-neutral, with ``{emergency}`` where the number goes.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Stable id, e.g. 'stroke'.")
    name: str = Field(min_length=3, description="Short name shown to the patient, e.g. "
                      "'Possible stroke'.")
    message: str = Field(min_length=20, description="What to do now, in plain words; "
                         "``{emergency}`` becomes the local number or 'your local emergency "
                         "number'.")
    action: str = Field(min_length=5, description="The clinician's next step; the key of the "
                        "escalation suite's cases for this emergency.")
    sources: list[str] = Field(min_length=1, description="Short citations a reader can check, "
                               "e.g. 'NHS: Stroke - symptoms (nhs.uk/conditions/stroke)'.")
    patterns: list[Pattern] = Field(
        min_length=1, description="What a patient writes: a phrase (its words in order, stemmed, "
        "up to 3 other words between them) or ``all_of`` groups that must co-occur. A match "
        "preceded by a negation ('no', 'never', \"don't\") or in a clause placed in the past "
        "('years ago', 'went away') does not fire.",
    )
    cases: EmergencyCases | None = Field(
        None, description="Parts for generated evaluation cases; without them the generator "
        "uses the phrase patterns.",
    )

    @field_validator("patterns")
    @classmethod
    def _patterns_have_words(cls, v: list[Pattern]) -> list[Pattern]:
        for j, pattern in enumerate(v):
            if isinstance(pattern, str):
                _has_words(pattern, f"[{j}]")
        return v

    @field_validator("message")
    @classmethod
    def _only_emergency_placeholder(cls, v: str) -> str:
        try:
            v.format(emergency="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only the placeholder {EMERGENCY_PLACEHOLDER} is allowed "
                             f"({exc})") from None  # fmt: skip
        return v
