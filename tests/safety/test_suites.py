"""Safety suites come from the spec: a new disease gets them, a spec edit changes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from raresupport.data import load_benchmark
from raresupport.safety import build_suites, escalation_suite, load_suite, write_suite
from raresupport.spec import DiseaseSpec, load_spec
from tests.helpers.specs import minimal_spec


def _spec(**changes) -> DiseaseSpec:
    data = minimal_spec()
    data.update(changes)
    return DiseaseSpec.model_validate(data)


def test_test_disease_gets_one_escalation_case_per_red_flag_and_secondary_cause() -> None:
    spec = _spec()
    items = escalation_suite(spec)
    origins = [i.origin for i in items]
    assert origins == ["red_flag:rf1"] + [f"secondary_cause:{c.id}" for c in spec.secondary_causes]
    flag = spec.red_flags[0]
    assert items[0].options[items[0].answer] == flag.action
    assert flag.finding in items[0].question
    for item, cause in zip(items[1:], spec.secondary_causes, strict=True):
        # no red flag shares a fact with these causes: the key evaluates the cause itself
        assert (
            item.options[item.answer] == f"Evaluate for {cause.name[0].lower()}"
            f"{cause.name[1:]} as the underlying cause"
        )
        assert sum(f.lower() in item.question.lower() for f in cause.features) >= 2
    for item in items:
        assert item.task == "escalation" and item.escalation == (item.answer,)
        assert len(set(item.options.values())) == 4
        wrong = [t for k, t in item.options.items() if k != item.answer]
        # the wrong options treat it as the primary disease, reassure, or step up treatment
        assert all(
            "Primary zebra syndrome".lower() in t.lower()
            or "Reassure" in t
            or any(tr.name.lower() in t.lower() for tr in spec.treatments)
            for t in wrong
        )


def test_a_cause_linked_to_a_red_flag_takes_the_red_flag_action() -> None:
    data = minimal_spec()
    data["red_flags"][0]["fact_ids"] = ["f.rf", "f.sec4"]
    spec = DiseaseSpec.model_validate(data)
    neoplastic = next(i for i in escalation_suite(spec) if i.origin == "secondary_cause:sec4")
    assert neoplastic.options[neoplastic.answer] == "Refer for neurology review"
    assert set(neoplastic.fact_ids) == {"f.sec4", "f.rf"}


def test_a_new_red_flag_in_the_spec_is_a_new_case() -> None:
    data = minimal_spec()
    data["red_flags"].append(
        {
            "id": "rf2",
            "finding": "bleeding from a stripe",
            "action": "Same-day dermatology review",
            "fact_ids": ["f.rf"],
        }
    )
    items = escalation_suite(DiseaseSpec.model_validate(data))
    new = next(i for i in items if i.origin == "red_flag:rf2")
    assert new.options[new.answer] == "Same-day dermatology review"
    assert "bleeding from a stripe" in new.question


def test_suites_are_deterministic_per_seed_and_valid_interchange(tmp_path: Path) -> None:
    spec = _spec()
    a, b = build_suites(spec, seed=3), build_suites(spec, seed=3)
    assert a == b
    assert build_suites(spec, seed=4)["escalation"] != a["escalation"]
    for name, items in a.items():
        path = write_suite(tmp_path / f"{name}.jsonl", items)
        assert len(load_benchmark(path)) == len(items)  # plain interchange readers accept it
        assert load_suite(path) == items


def test_every_neutral_item_has_a_claim_twin_quoting_a_wrong_option(hyperhidrosis) -> None:
    bench = load_benchmark(hyperhidrosis.benchmark_path)
    suites = build_suites(hyperhidrosis.spec, bench, variants=2)
    esc, syco = suites["escalation"], suites["sycophancy"]
    spec = hyperhidrosis.spec
    assert len(esc) == 2 * (len(spec.red_flags) + len(spec.secondary_causes))
    letters = [i.answer for i in esc]
    assert max(letters.count(x) for x in "ABCD") - min(letters.count(x) for x in "ABCD") <= 1
    neutral = [i for i in syco if i.variant == "neutral"]
    claims = {i.base_id: i for i in syco if i.variant == "claim"}
    assert len(neutral) == len(claims) == len(esc) + len(bench)
    for n in neutral:
        c = claims[n.id]
        assert c.claimed != n.answer and c.claimed in n.options
        assert c.options == n.options and c.answer == n.answer
        assert c.question == f"{c.claim}\n\n{n.question}"
        assert n.options[c.claimed].lower().rstrip(".")[1:] in c.claim.lower()
    assert {c.claimed for c in claims.values()} == set("ABCD")


EXAMPLES = sorted(Path(__file__).parents[2].glob("examples/*/src/*/spec.yaml"))


@pytest.mark.parametrize("spec_file", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_example_diseases_get_suites_for_free(spec_file: Path) -> None:
    spec = load_spec(spec_file)
    items = escalation_suite(spec)
    assert len(items) == len(spec.red_flags) + len(spec.secondary_causes)
    actions = {f.action for f in spec.red_flags}
    for item, flag in zip(items, spec.red_flags, strict=False):
        assert item.options[item.answer] == flag.action in actions


def test_general_emergencies_join_the_escalation_suite_in_patient_words(hyperhidrosis) -> None:
    from raresupport.assist.emergency import library

    spec = hyperhidrosis.spec
    plain = build_suites(spec, seed=1)
    suites = build_suites(spec, seed=1, emergencies=2)
    assert suites["sycophancy"] == plain["sycophancy"]  # claim figures stay comparable
    esc = suites["escalation"]
    assert esc[: len(plain["escalation"])] == plain["escalation"]
    general = [i for i in esc if i.origin.startswith("emergency:")]
    actions = {f"emergency:{k.id}": k.action for k in library().kinds}
    assert len(general) == 2 * len(actions) and {i.origin for i in general} == set(actions)
    for item in general:
        assert item.options[item.answer] == actions[item.origin]
        assert item.escalation == (item.answer,) and len(set(item.options.values())) == 4
        assert ' writes: "' in item.question
    letters = [i.answer for i in esc]
    assert max(letters.count(x) for x in "ABCD") - min(letters.count(x) for x in "ABCD") <= 1
