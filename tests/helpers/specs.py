"""A small but complete disease spec for tests: every section the generators read is present."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

_F = ["f.def", "f.dx", "f.sev", "f.sec1", "f.sec2", "f.sec3", "f.sec4", "f.rf", "f.tx1", "f.tx2",
      "f.tx3", "f.tx4", "f.cn1", "f.cn2"]

MINIMAL: dict[str, Any] = {
    "id": "zebra-syndrome",
    "name": "Zebra syndrome",
    "synonyms": ["striped skin disorder"],
    "icd10": ["L98.8"],
    "icd11": [],
    "definition": "A made-up test disease with striped plaques on the forearms and shins.",
    "prevalence": "About 1 in 100 000 (invented for tests).",
    "sites": ["forearms", "shins"],
    "facts": [
        {"id": fid, "statement": f"Test statement number {i} for the zebra syndrome spec.",
         "topic": topic, "sources": ["src1"]}
        for i, (fid, topic) in enumerate(zip(_F, [
            "definition", "diagnosis", "severity", "secondary", "secondary", "secondary",
            "secondary", "red_flag", "treatment", "treatment", "treatment", "adverse_effect",
            "counseling", "counseling"]))
    ],
    "diagnostic_criteria": [{
        "name": "Primary zebra syndrome",
        "required": ["striped plaques for at least 3 months"],
        "supporting": ["symmetric stripes", "onset before 30", "family history", "itch at night"],
        "min_supporting": 2,
        "fact_ids": ["f.dx"],
    }],
    "severity_scales": [{
        "id": "zss", "name": "Zebra Severity Scale", "fact_ids": ["f.sev"],
        "levels": [
            {"level": 1, "label": "mild", "description": "stripes are barely noticeable"},
            {"level": 2, "label": "moderate", "description": "stripes are sometimes noticed"},
            {"level": 3, "label": "marked", "description": "stripes often cause comments"},
            {"level": 4, "label": "severe", "description": "stripes always limit activities"},
        ],
    }],
    "secondary_causes": [
        {"id": f"sec{i}", "name": name, "category": "drug" if i == 1 else "systemic",
         "features": feats, "fact_ids": [f"f.sec{i}"]}
        for i, (name, feats) in enumerate([
            ("Drug-induced striping", ["new lithium tablets", "stripes began after the drug"]),
            ("Thyroid striping", ["weight loss and tremor", "heat intolerance"]),
            ("Infective striping", ["fever and night sweats", "recent travel abroad"]),
            ("Neoplastic striping", ["enlarged lymph nodes", "unexplained weight loss"]),
        ], start=1)
    ],
    "differentials": [],
    "red_flags": [
        {"id": "rf1", "finding": "stripes on one side only", "action": "Refer for neurology review",
         "fact_ids": ["f.rf"]},
    ],
    "treatments": [
        {"id": "t1", "name": "Striping cream", "class": "topical", "sites": ["forearms", "shins"],
         "line": 1, "adverse_effects": ["skin irritation", "stinging"], "contraindications": [],
         "fact_ids": ["f.tx1"]},
        {"id": "t2", "name": "Stripe light therapy", "class": "device", "sites": ["forearms"],
         "line": 2, "adverse_effects": ["tingling"], "contraindications": ["pacemaker"],
         "fact_ids": ["f.tx2"]},
        {"id": "t3", "name": "Oral destriping pills", "class": "systemic",
         "sites": ["forearms", "shins"], "line": 2,
         "adverse_effects": ["dry mouth", "blurred vision"],
         "contraindications": ["glaucoma"], "fact_ids": ["f.tx3"]},
        {"id": "t4", "name": "Stripe surgery", "class": "surgery", "sites": ["shins"], "line": 3,
         "adverse_effects": ["scarring", "compensatory stripes"], "contraindications": [],
         "fact_ids": ["f.tx4"]},
    ],
    "counseling": [
        {"id": "c1", "situation": "a teenager avoids sport because of the stripes",
         "impact": "social embarrassment", "recommended": "Validate and explain effective options",
         "avoid": ["Say it is only cosmetic", "Promise a permanent cure", "Advise hiding forever"],
         "fact_ids": ["f.cn1"]},
        {"id": "c2", "situation": "an adult feels low and hopeless about the stripes",
         "impact": "low mood", "recommended": "Screen for depression and offer support",
         "avoid": ["Tell them to cheer up", "Ignore the mood symptoms", "Suggest it is imagined"],
         "fact_ids": ["f.cn2"]},
    ],
    "vignette_hints": {"age_min": 12, "age_max": 60, "occupations": ["baker", "pilot"],
                       "settings": ["work meetings"], "triggers": ["sunlight"],
                       "comorbidities": ["asthma"]},
    "sources": [{"id": "src1", "title": "Invented test source", "authors": "Test Society",
                 "year": 2024, "url": "https://example.org/zebra"}],
}


def minimal_spec() -> dict[str, Any]:
    """A deep copy, so tests can break it freely."""
    return copy.deepcopy(MINIMAL)


def write_disease(root: Path, spec: dict[str, Any] | None = None) -> Path:
    """A disease folder (spec.yaml only) under ``root``; returns the folder."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "spec.yaml").write_text(yaml.safe_dump(spec or minimal_spec(), sort_keys=False))
    return root
