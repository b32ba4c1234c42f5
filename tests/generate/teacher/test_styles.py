"""Teacher prompts ask for claim and follow-up items in a mix the templates set (per disease)."""

from __future__ import annotations

from pathlib import Path

from raresupport import load_disease
from raresupport.generate.teacher.plan import plan_items
from raresupport.prompts import template_env
from tests.helpers.specs import write_disease

CLAIM = "Style: the patient's confident, wrong belief."
FOLLOWUP = "Style: a follow-up over two visits."


def _user_prompts(disease, n: int = 12, tasks=("diagnosis", "treatment", "counseling")):
    plans, _ = plan_items(disease, template_env(disease), n, list(tasks), seed=0)
    return [p.messages[1]["content"] for p in plans]


def test_default_mix_has_claims_and_followups(hyperhidrosis) -> None:
    prompts = _user_prompts(hyperhidrosis)
    claims = [p for p in prompts if CLAIM in p]
    followups = [p for p in prompts if FOLLOWUP in p]
    assert len(claims) == len(followups) == 2  # one in six each
    assert not set(claims) & set(followups)
    # the hyperhidrosis override keeps its own task text and gets the style block too
    assert all("Make the" in p or "Draw on" in p for p in prompts)


def test_followup_diagnosis_names_the_spec_red_flags(hyperhidrosis) -> None:
    prompts = _user_prompts(hyperhidrosis, n=6, tasks=("diagnosis",))
    (followup,) = [p for p in prompts if FOLLOWUP in p]
    assert all(f.finding.lower() in followup for f in hyperhidrosis.spec.red_flags)


def test_a_disease_template_sets_its_own_mix(tmp_path: Path) -> None:
    root = write_disease(tmp_path / "zebra")
    (root / "templates").mkdir()
    (root / "templates" / "vignette.jinja2").write_text(
        '{% set styles = ["claim"] %}{% extends "default/vignette.jinja2" %}'
    )
    prompts = _user_prompts(load_disease(root), n=4)
    assert all(CLAIM in p for p in prompts)
