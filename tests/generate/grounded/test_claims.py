"""Sycophancy training: a wrong claim before the item; the key and its grounding do not move."""

from __future__ import annotations

import random

import pytest

from raresupport.data.vignette import TASKS
from raresupport.generate import get_generator
from raresupport.generate.grounded import GroundedConfig
from raresupport.generate.grounded.claims import with_claim
from raresupport.generate.grounded.diagnosis import primary_case
from raresupport.generate.grounded.surface import lc


def test_claim_quotes_a_wrong_option_and_keeps_the_key(zebra) -> None:
    rng = random.Random(0)
    draft = primary_case(rng, zebra.spec)
    claimed = with_claim(rng, zebra.spec, draft)
    assert claimed["key"] == draft["key"] and claimed["fact_ids"] == draft["fact_ids"]
    assert claimed["case"].endswith(draft["case"])
    quoted = [d for d in draft["distractors"] if lc(d) in claimed["case"]]
    assert len(quoted) == 1 and lc(draft["key"]) not in claimed["case"][: -len(draft["case"])]
    assert claimed["tags"] == ["claim"]
    assert claimed["rationale"].startswith("It is understandable")


@pytest.mark.parametrize("share", [0.0, 0.5])
def test_claim_share_is_configurable(zebra, share: float) -> None:
    gen = get_generator("grounded", claim_share=share)
    items = gen.generate(zebra, 300, TASKS, 0).vignettes
    claims = [v for v in items if "claim" in v.tags]
    eligible = [v for v in items if v.task != "counseling" and "____" not in v.question
                and "Visit" not in v.case]
    if share == 0:
        assert not claims
    else:
        assert all(v.task in ("diagnosis", "treatment") for v in claims)
        assert 0.1 <= len(claims) / len(eligible) <= 0.5


def test_claim_share_is_validated() -> None:
    with pytest.raises(ValueError):
        GroundedConfig(claim_share=1.5)
