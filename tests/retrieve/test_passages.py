from __future__ import annotations

from raresupport.retrieve import build_passages


def test_every_fact_and_structured_entry_becomes_a_passage(zebra_spec):
    passages = build_passages(zebra_spec)
    ids = [p.id for p in passages]
    assert len(ids) == len(set(ids))
    kinds = {p.kind for p in passages}
    assert kinds == {"fact", "criterion", "severity", "secondary_cause", "red_flag", "treatment",
                     "counseling"}
    assert {f"fact:{f.id}" for f in zebra_spec.facts} <= set(ids)
    assert sum(p.kind == "severity" for p in passages) == 4  # one per level
    for p in passages:
        assert p.fact_ids and set(p.fact_ids) <= zebra_spec.fact_ids
        assert p.source_ids == ("src1",)


def test_structured_passages_carry_their_fields(zebra_spec):
    by_id = {p.id: p for p in build_passages(zebra_spec)}
    tx = by_id["treatment:t3"].text
    for part in ("Oral destriping pills", "systemic", "second-line", "dry mouth", "glaucoma"):
        assert part in tx
    rf = by_id["red_flag:rf1"].text
    assert "stripes on one side only" in rf and "Refer for neurology review" in rf
    sec = by_id["secondary_cause:sec1"].text
    assert "Drug-induced striping" in sec and "new lithium tablets" in sec
    cn = by_id["counseling:c1"].text
    assert "Validate and explain effective options" in cn
    assert "Say it is only cosmetic" not in cn  # wrong responses are never shown as notes


def test_every_hyperhidrosis_fact_has_a_passage(hh_spec):
    cited = {fid for p in build_passages(hh_spec) for fid in p.fact_ids}
    assert cited == hh_spec.fact_ids
