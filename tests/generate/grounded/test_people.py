"""The people validation split: first person, reworded options, unseen in training."""

from __future__ import annotations

from collections import Counter

import pytest

from raresupport.data import load_vignettes
from raresupport.data.vignette import TASKS
from raresupport.generate import get_generator
from raresupport.generate.dataset import generate_dataset
from raresupport.generate.grounded.people import people_items, reword, verbatim_options


@pytest.fixture(scope="module")
def hh_people(hh):
    return people_items(hh.spec, 240, seed=0)


def test_no_option_appears_verbatim_in_its_gold_statements(hh, hh_people) -> None:
    items, counts = hh_people
    assert len(items) == 240
    for v in items:
        assert verbatim_options(hh.spec, list(v.options.values()), v.fact_ids) == [], v.id
    # the check is not vacuous: without the rewordings, items copying a statement are dropped
    bare = hh.spec.model_copy(update={
        "phrasing": hh.spec.phrasing.model_copy(update={"rewordings": {}})})
    _, bare_counts = people_items(bare, 120, seed=0)
    assert bare_counts["people.verbatim"] > counts["people.verbatim"]


def test_verbatim_check_catches_a_copied_option(hh) -> None:
    fact = next(f for f in hh.spec.facts if f.keys)
    assert verbatim_options(hh.spec, [fact.keys[0].upper(), "zzz"], [fact.id]) == [
        fact.keys[0].upper()]


def test_both_voices_every_task_and_no_recall(hh_people) -> None:
    items, _ = hh_people
    by = Counter((v.task, next(t for t in v.tags if t.startswith("voice:"))) for v in items)
    for task in TASKS:
        assert by[(task, "voice:patient")] >= 15 and by[(task, "voice:clinician")] >= 15, by
    assert not any("____" in v.question for v in items)  # never fact recall
    patient = [v for v in items if "voice:patient" in v.tags]
    assert all(v.case.startswith(("I", "1", "2", "3", "4", "5", "6")) for v in patient)
    # the question never names the key
    for v in items:
        assert v.options[v.answer].lower() not in (v.case + " " + v.question).lower(), v.id


def test_rewordings_are_held_out_of_training(hh, hh_people, tmp_path) -> None:
    """No training option uses a rewording; the people split does."""
    reworded = {r.lower() for alts in hh.spec.phrasing.rewordings.values() for r in alts}
    generate_dataset(hh, get_generator("grounded"), 300, tmp_path, people_val=0)
    train = load_vignettes(tmp_path / "train.jsonl") + load_vignettes(tmp_path / "val.jsonl")
    assert not any(o.lower() in reworded for v in train for o in v.options.values())
    items, _ = hh_people
    used = sum(o.lower() in reworded for v in items for o in v.options.values())
    assert used / (4 * len(items)) > 0.5


def test_deterministic_and_written_by_generate_dataset(hh, tmp_path) -> None:
    a, _ = people_items(hh.spec, 30, seed=3)
    b, _ = people_items(hh.spec, 30, seed=3)
    assert [v.model_dump() for v in a] == [v.model_dump() for v in b]
    m = generate_dataset(hh, get_generator("grounded"), 60, tmp_path, people_val=45)
    people = load_vignettes(tmp_path / "val_people.jsonl")
    assert m.counts["val_people"] == len(people) >= 40
    train_ids = {v.id for v in load_vignettes(tmp_path / "train.jsonl")}
    assert all("people" in v.id and v.id not in train_ids for v in people)


def test_a_spec_without_rewordings_still_builds(zebra) -> None:
    """Any disease gets the split; options it cannot reword stay as written when not copied."""
    items, _ = people_items(zebra.spec, 24, seed=0)
    assert items and all(len(set(v.options.values())) == 4 for v in items)
    assert reword(__import__("random").Random(0), zebra.spec, "anything") == "anything"
