"""Validation rejects what must not train, with reasons, and rebalances letters."""

from __future__ import annotations

from collections import Counter

from raresupport import load_disease
from raresupport.data import MCQItem, Provenance, Vignette
from raresupport.generate.validate import rebalance_letters, validate_vignettes


def _v(i: int, case: str, answer: str = "A", facts=("dx.criteria.duration",), **kw) -> Vignette:
    opts = kw.pop("options", {"A": "Option alpha", "B": "Option beta", "C": "Option gamma",
                              "D": "Option delta"})
    return Vignette(
        id=f"v{i}", disease="hyperhidrosis", task=kw.pop("task", "diagnosis"), case=case,
        question="What is the most likely diagnosis?", options=opts, answer=answer,
        rationale="Because the spec says so.", fact_ids=list(facts),
        provenance=Provenance(generator="test"),
    )


SPEC = load_disease("hyperhidrosis").spec
FACT = sorted(SPEC.fact_ids)[0]


def test_rejects_with_reasons() -> None:
    base = "A 23-year-old woman reports visible sweating of both palms since she was twelve."
    bench = [MCQItem(id="hh-x", task="diagnosis", question=base + " Most likely diagnosis?",
                     options={"A": "a", "B": "b"}, answer="A")]
    items = [
        _v(1, "A 40-year-old man has drenching night sweats and lost 6 kg in two months.",
           facts=[FACT]),
        _v(2, "A 40-year-old man has drenching night sweats and lost 6 kg in two months.",
           facts=[FACT]),
        _v(3, "A 31-year-old teacher has axillary sweating that soaks shirts daily.",
           facts=["no.such.fact"]),
        _v(4, base, facts=[FACT]),
        _v(5, "A 35-year-old chef reports sweaty palms at work every single day.", facts=[FACT],
           options={"A": "A very long answer option that gives itself away by length alone",
                    "B": "No", "C": "Yes", "D": "Hm"}),
    ]
    ok, rejects = validate_vignettes(items, SPEC, avoid=bench)
    assert [v.id for v in ok] == ["v1"]
    reasons = {r.item["id"]: r.reason for r in rejects}
    assert reasons["v2"] == "exact duplicate"
    assert "unknown fact ids" in reasons["v3"]
    assert "benchmark item hh-x" in reasons["v4"]
    assert "key length" in reasons["v5"]


def test_rebalance_puts_each_letter_near_a_quarter() -> None:
    items = [_v(i, f"Case number {i} with some distinct words {i * 7}.", facts=[FACT])
             for i in range(40)]
    out = rebalance_letters(items, seed=3)
    counts = Counter(v.answer for v in out)
    assert all(counts[letter] == 10 for letter in "ABCD")
    for before, after in zip(items, out):
        assert after.options[after.answer] == before.options[before.answer]
        assert sorted(after.options.values()) == sorted(before.options.values())
