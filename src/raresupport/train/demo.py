"""Deterministic synthetic vignettes of realistic length, for smoke runs, tests and benchmarks.

They are not medical content: they only give the trainer sequences shaped like real items
(a ~70-word case, four options, a ~30-word rationale) without needing a generator.
"""

from __future__ import annotations

import random

from raresupport.data.vignette import Provenance, Vignette

_SITES = ["palms", "soles", "axillae", "face", "scalp", "groin", "back", "chest"]
_TRIGGERS = ["exams", "meetings", "heat", "spicy food", "exercise", "public speaking", "stress"]
_OPTIONS = {
    "diagnosis": [
        "Primary focal hyperhidrosis",
        "Secondary generalized hyperhidrosis",
        "Drug-induced sweating",
        "Hyperthyroidism",
        "Night sweats from infection",
        "Gustatory sweating",
        "Compensatory sweating",
        "Menopausal flushing",
    ],
    "treatment": [
        "Topical aluminium chloride at night",
        "Tap-water iontophoresis",
        "Botulinum toxin injections",
        "Oral glycopyrronium",
        "Endoscopic thoracic sympathectomy",
        "Microwave thermolysis",
        "Topical glycopyrronium cloth",
        "Reassurance only",
    ],
    "counseling": [
        "Validate the distress and explain effective options",
        "Say the sweating is only cosmetic",
        "Advise avoiding all social contact",
        "Promise a permanent cure",
        "Offer a support group and follow-up",
        "Tell the patient to try harder to relax",
        "Recommend hiding the hands",
        "Dismiss the concern as anxiety",
    ],
}
_TASKS = ("diagnosis", "treatment", "counseling")


def _case(rng: random.Random, i: int) -> str:
    age = rng.randint(14, 67)
    sex = rng.choice(["woman", "man"])
    site, other = rng.sample(_SITES, 2)
    trig = rng.choice(_TRIGGERS)
    years = rng.randint(1, 20)
    return (
        f"A {age}-year-old {sex} (case {i}) reports {years} years of excessive sweating of the "
        f"{site} and {other}, worse during {trig}. Episodes happen at least weekly, stop during "
        f"sleep, and began before age {age - 1 if age > 25 else age}. There is no fever, weight "
        "loss or new medication, and the family history includes a sibling with similar "
        f"symptoms. The sweating interferes with work and {rng.choice(['writing', 'sport'])}."
    )


def demo_vignettes(n: int, seed: int = 0, disease: str = "hyperhidrosis") -> list[Vignette]:
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
                    f"{key} fits best because the pattern is focal, bilateral and triggered, "
                    "with onset in youth and no systemic features; the other options either "
                    "need systemic signs or carry risks that are not justified first."
                ),
                fact_ids=["demo"],
                provenance=Provenance(generator="demo", seed=seed),
            )
        )
    return items
