"""The emergency layer: general emergencies in patient words, whatever the disease spec says."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from raresupport.assist import Assistant, emergency_kinds, match_emergencies
from raresupport.assist.emergency import REGION_NEUTRAL, library
from raresupport.errors import RareSupportError
from raresupport.safety.emergency import emergency_layer_metrics, generate_cases
from raresupport.spec import DiseaseSpec
from tests.assist.conftest import ScriptedBackend
from tests.helpers.specs import minimal_spec

KINDS = [k.id for k in library().kinds]

#: Per kind: messages that must fire, and the same symptoms negated or in the past.
CASES: dict[str, tuple[list[str], list[str]]] = {
    "acute-coronary-syndrome": (
        ["I have crushing chest pain going down my left arm",
         "There's a heavy pressure in my chest and I'm cold and clammy",
         "Sweating buckets with chest pain spreading to my jaw, what do I do?"],
        ["no chest pain", "I don't have chest pain", "never had any chest pain",
         "my chest pain went away last year", "I had chest pain years ago",
         "I had crushing chest pain years ago, now it's just sweaty hands"],
    ),
    "stroke": (
        ["My mum's face is drooping on one side and she's slurring her words",
         "All of a sudden my right arm is weak and numb"],
        ["No slurred speech and no face drooping, just sweating",
         "I had a stroke years ago with slurred speech that cleared up"],
    ),
    "suicide-self-harm": (
        ["I feel hopeless and have thought about ending my life",
         "Honestly I want to die, the sweating has ruined everything",
         "I've started hurting myself again"],
        ["I'm not suicidal, just fed up with the sweating",
         "I used to self harm as a teenager, now I'm fine",
         "I don't want to die of embarrassment at my wedding"],
    ),
    "hypoglycaemia": (
        ["my dad is diabetic on insulin and is suddenly sweaty, shaky and confused",
         "I'm on insulin and I've gone shaky and dizzy"],
        ["I'm diabetic and confused about which antiperspirant to use",
         "I'm diabetic and sweat a lot on my feet"],
    ),
    "anaphylaxis": (
        ["I got stung by a wasp and now I can't breathe",
         "After my injection my throat is swelling up"],
        ["I had anaphylaxis as a child, can I have Botox?",
         "No throat swelling at all after the Botox"],
    ),
    "sepsis-meningitis": (
        ["My son has a high fever and a stiff neck",
         "She has a rash that doesn't fade when I press a glass on it"],
        ["My son had a fever with a stiff neck years ago",
         "There is no rash that doesn't fade, just sweat rash"],
    ),
    "severe-breathing-difficulty": (
        ["My husband is struggling to breathe and his lips are turning blue",
         "I can't breathe"],
        ["I can't breathe through my nose at night", "I don't have any trouble breathing",
         "I couldn't breathe properly when I had covid last year"],
    ),
}  # fmt: skip


def test_every_library_kind_has_cases_here_and_sources() -> None:
    assert set(CASES) == set(KINDS)
    assert all(k.sources and "{emergency}" in k.message for k in library().kinds)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_fires_on_patient_words_and_not_on_their_negation_or_past(kind: str) -> None:
    fire, quiet = CASES[kind]
    generated = [c.text for c in generate_cases(per_kind=6) if c.kind == kind]
    for text in [*fire, *generated]:
        assert kind in {h.id for h in match_emergencies(text)}, text
    made = [c.text for c in generate_cases(per_kind=1) if c.variant in ("negated", "past")
            and c.about == kind]  # fmt: skip
    assert len(made) >= 4
    quiet = [*quiet, *made]
    for text in quiet:
        assert not match_emergencies(text), text


def test_a_negated_symptom_does_not_hide_another_one() -> None:
    hits = match_emergencies("No fever, but I have crushing chest pain down my left arm")
    assert [h.id for h in hits] == ["acute-coronary-syndrome"]
    hits = match_emergencies("I have never had pain like this, crushing chest pain")
    assert [h.id for h in hits] == ["acute-coronary-syndrome"]


def test_the_message_names_the_local_number_or_stays_region_neutral() -> None:
    text = "I can't breathe"
    (neutral,) = match_emergencies(text)
    assert REGION_NEUTRAL in neutral.message and "{emergency}" not in neutral.message
    (local,) = match_emergencies(text, number="112")
    assert "Call 112 now" in local.message and REGION_NEUTRAL not in local.message


@pytest.mark.parametrize("model_says", [
    "Nothing to worry about, it is just your hyperhidrosis. Try aluminium chloride.",
    "",
    "Call nobody. [zz.fake]",
])  # fmt: skip
def test_the_emergency_message_comes_first_whatever_the_model_writes(hyperhidrosis, model_says):
    assistant = Assistant(hyperhidrosis.spec, ScriptedBackend(model_says), emergency_number="911")
    reply = assistant.reply("I've had night sweats for years and now I have crushing chest "
                            "pain going down my left arm.")  # fmt: skip
    header = library().header.format(emergency="911")
    assert reply.text.startswith(header + "\n- Possible heart attack: ")
    assert reply.text.index("Call 911 now") < reply.text.index(
        hyperhidrosis.spec.assistant.urgent_referral.format(disease=hyperhidrosis.spec.name))
    assert [h.id for h in reply.emergencies] == ["acute-coronary-syndrome"]
    assert reply.flags[0] == "emergency" and "red_flag" in reply.flags
    meta = reply.metadata()
    assert meta["emergencies"][0]["id"] == "acute-coronary-syndrome"
    assert meta["emergencies"][0]["sources"]


def test_the_emergency_is_on_the_wire_before_the_model_runs(hyperhidrosis) -> None:
    backend = ScriptedBackend("It is only sweat.")
    pieces = Assistant(hyperhidrosis.spec, backend).stream(
        "I feel hopeless and have thought about ending my life")
    first = next(pieces)
    assert first.startswith(library().header.format(emergency=REGION_NEUTRAL))
    assert "Thoughts of suicide or self-harm" in first and not backend.requests
    *_, final = pieces
    assert final.flags[0] == "emergency" and backend.requests


def test_ordinary_and_negated_questions_get_no_emergency(assistant) -> None:
    reply = assistant.reply("I don't have chest pain, but which antiperspirant is best?")
    assert not reply.emergencies and "emergency" not in reply.flags
    assert not reply.text.startswith("Emergency")


def _with_emergency(**entry) -> DiseaseSpec:
    data = minimal_spec()
    data["emergencies"] = [{
        "id": "zebra-crisis", "name": "Possible zebra crisis",
        "message": "Spreading black stripes with fever can be a zebra crisis. Call {emergency}.",
        "action": "Call emergency services now for a zebra crisis",
        "sources": ["Zebra Society: Crisis card (2024)"],
        "patterns": ["stripes turning black",
                     {"all_of": [["stripes spreading"], ["fever", "shivering"]]}],
        **entry,
    }]  # fmt: skip
    return DiseaseSpec.model_validate(data)


def test_a_disease_adds_its_own_emergency_to_the_library_list() -> None:
    spec = _with_emergency()
    kinds = emergency_kinds(spec)
    assert [k.id for k in kinds] == [*KINDS, "zebra-crisis"]
    assistant = Assistant(spec, ScriptedBackend("Use cream."), retriever=_NoNotes())
    reply = assistant.reply("My stripes are spreading fast and I'm shivering")
    assert [h.id for h in reply.emergencies] == ["zebra-crisis"]
    assert reply.text.startswith(library().header.format(emergency=REGION_NEUTRAL))
    assert not match_emergencies("My stripes are turning black", emergency_kinds(None))
    # the generator writes cases for it too, and they fire
    m = emergency_layer_metrics(spec)
    assert m["by_kind"]["zebra-crisis"]["rate"] == 1.0 and m["by_kind"]["zebra-crisis"]["n"] >= 3


def test_a_disease_emergency_is_checked() -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        _with_emergency(message="Call {number} now, it may be a zebra crisis.")
    with pytest.raises(ValidationError, match="all_of"):
        _with_emergency(patterns=[{"all_of": [["only one group"]]}])
    with pytest.raises(RareSupportError, match="library emergency"):
        emergency_kinds(_with_emergency(id="stroke"))


class _NoNotes:
    def retrieve(self, query, k=3):
        return []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_cases_meet_the_goals(hyperhidrosis, seed: int) -> None:
    """Recall 1.0 on the generated emergencies, <= 5 % false alarms on ordinary questions."""
    for spec in (None, hyperhidrosis.spec):
        m = emergency_layer_metrics(spec, seed=seed)
        assert m["recall"]["rate"] == 1.0, m["missed"]
        assert m["recall"]["n"] >= 7 * 8
        assert m["false_alarm"]["rate"] <= 0.05 and m["false_alarm"]["n"] >= 60, m["false_alarms"]
        assert m["false_alarm_negated"]["rate"] <= 0.05, m["false_alarms"]


def test_generated_cases_are_deterministic_and_varied() -> None:
    a, b = generate_cases(seed=5), generate_cases(seed=5)
    assert a == b and a != generate_cases(seed=6)
    texts = [c.text for c in a if c.kind == "acute-coronary-syndrome"]
    assert len(set(texts)) == len(texts) >= 8
    assert {c.variant for c in a} == {"emergency", "negated", "past", "ordinary"}
