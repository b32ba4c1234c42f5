"""Deterministic synthetic vignettes of realistic length, for smoke runs, tests and benchmarks.

They are not medical content: they only give the trainer sequences shaped like real items
(a ~70-word case, four options, a ~30-word rationale) without needing a generator.
"""

from __future__ import annotations

import random

from raresupport.data.vignette import Provenance, Vignette

_SITES = ["site one", "site two", "site three", "site four", "site five", "site six"]
_TRIGGERS = ["trigger one", "trigger two", "trigger three", "trigger four", "trigger five"]
#: Option texts of realistic length that name no disease: the demo data is shape only.
_OPTIONS = {
    task: [f"Option {word} for the {task} item"
           for word in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")]
    for task in ("diagnosis", "treatment", "counseling")
}
_TASKS = ("diagnosis", "treatment", "counseling")


def _case(rng: random.Random, i: int) -> str:
    age = rng.randint(14, 67)
    sex = rng.choice(["woman", "man"])
    site, other = rng.sample(_SITES, 2)
    trig = rng.choice(_TRIGGERS)
    years = rng.randint(1, 20)
    return (
        f"A {age}-year-old {sex} (case {i}) reports {years} years of a recurring complaint at "
        f"{site} and {other}, worse with {trig}. Episodes happen at least weekly, ease at rest, "
        f"and began before age {age - 1 if age > 25 else age}. There is no fever, weight loss "
        "or new medication, and the family history includes a sibling with a similar pattern. "
        f"It interferes with work and {rng.choice(['study', 'sport'])}."
    )


def demo_vignettes(n: int, seed: int = 0, disease: str = "demo") -> list[Vignette]:
    """``n`` synthetic vignettes cycling through the three tasks, balanced answer letters."""
    rng = random.Random(seed)
    items = []
    for i in range(n):
        task = _TASKS[i % 3]
        texts = rng.sample(_OPTIONS[task], 4)
        letter = "ABCD"[(i // 3) % 4]
        key = texts[0]
        texts[0], texts["ABCD".index(letter)] = texts["ABCD".index(letter)], texts[0]
        items.append(
            Vignette(
                id=f"demo-{seed}-{i:04d}",
                disease=disease,
                task=task,
                case=_case(rng, i),
                question=f"What is the best answer for this {task} question?",
                options=dict(zip("ABCD", texts, strict=True)),
                answer=letter,
                rationale=(
                    f"{key} fits best because the pattern is long-standing, symmetric and "
                    "triggered, with onset in youth and no systemic features; the other options "
                    "either need systemic signs or carry risks that are not justified first."
                ),
                fact_ids=["demo"],
                provenance=Provenance(generator="demo", seed=seed),
            )
        )
    return items
