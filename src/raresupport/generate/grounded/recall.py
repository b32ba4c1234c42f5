"""Fact-recall items: every ``Fact.keys`` span blanked out in turn, under its topic's task."""

from __future__ import annotations

import random

from raresupport.data.vignette import Task
from raresupport.generate.grounded.pick import pick_near
from raresupport.generate.grounded.surface import (
    Draft,
    disease_at_site,
    lc,
    patient,
    sites,
    stem,
)
from raresupport.spec import DiseaseSpec

#: Which task a fact's topic is asked under.
TOPIC_TASK: dict[str, Task] = {
    "definition": "diagnosis", "epidemiology": "diagnosis", "pathophysiology": "diagnosis",
    "diagnosis": "diagnosis", "severity": "diagnosis", "secondary": "diagnosis",
    "red_flag": "diagnosis", "differential": "diagnosis", "treatment": "treatment",
    "adverse_effect": "treatment", "counseling": "counseling", "prognosis": "counseling",
}
BLANK = "____"
_FRAMES = [
    "{p} with {d} asks what is known about the condition.",
    "{p} has {d} and wants to understand the evidence.",
    "{p} is seen in clinic for {d}; the clinician explains the condition.",
    "A clinician checks a leaflet for {p_lc} with {d}.",
    "A resident reviewing guidance before clinic thinks of {p_lc} with {d}.",
    "{p} with {d} reads about it before an appointment.",
]


class FactRecall:
    """Fill-in-the-blank items over every ``Fact.keys`` span of one task's facts, in rotation.

    The structured builders reach only the facts that criteria, causes or treatments cite; this
    one makes sure every keyed fact is trained, each key asked in turn before any repeats.
    """

    def __init__(self, spec: DiseaseSpec, task: Task) -> None:
        facts = [f for f in spec.facts if f.keys and TOPIC_TASK.get(f.topic) == task]
        self.pairs = [(f, k) for f in facts for k in f.keys]
        self.task_keys = [k for _, k in self.pairs]
        self.all_keys = [k for f in spec.facts for k in f.keys]
        self.queue: list = []

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def __call__(self, rng: random.Random, spec: DiseaseSpec) -> Draft | None:
        if not self.queue:
            self.queue = rng.sample(self.pairs, len(self.pairs))
        fact, key = self.queue.pop()
        blanked = fact.statement.replace(key, BLANK, 1)
        same_topic = [k for f in spec.facts if f.topic == fact.topic and f.id != fact.id
                      for k in f.keys]
        distractors = None
        pool: list[str] = []
        for wider in (same_topic, self.task_keys, self.all_keys):  # nearest kind first
            pool += [k for k in wider if k not in fact.statement and k not in pool]
            distractors = distractors or pick_near(rng, key, pool)
        if distractors is None:
            return None
        who = patient(rng, spec)
        case = rng.choice(_FRAMES).format(
            p=who, p_lc=lc(who), d=disease_at_site(spec, sites(rng, spec)[0])
        )
        return {
            "case": case,
            "question": stem(rng, spec, spec.phrasing.questions.recall, statement=blanked),
            "key": key,
            "distractors": distractors,
            "rationale": f"The blank is: {key}",
            "fact_ids": [fact.id],
        }
