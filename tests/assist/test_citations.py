"""Citations the model writes are checked against the spec; invented ones are removed."""

from __future__ import annotations

from raresupport.assist import check_citations


def test_invented_fact_id_is_removed_and_reported(hyperhidrosis) -> None:
    text, check = check_citations(
        "Apply it at night [tx.alcl.first-line] [tx.invented-cure].", hyperhidrosis.spec
    )
    assert text == "Apply it at night [tx.alcl.first-line]."
    assert check.valid == ("tx.alcl.first-line",) and check.invalid == ("tx.invented-cure",)
    assert check.hallucinated


def test_note_numbers_sources_and_mixed_brackets(hyperhidrosis) -> None:
    text, check = check_citations(
        "Primary (idiopathic) since 2004 (2004) [2][7] (hornberger2004, fake2020) "
        "[fact: dx.clinical; source: bad-pil] [see above].",
        hyperhidrosis.spec, n_notes=3,
    )  # fmt: skip
    assert text == (
        "Primary (idiopathic) since 2004 (2004) [2] (hornberger2004) "
        "[dx.clinical, bad-pil] [see above]."
    )
    assert check.valid == ("2", "dx.clinical", "bad-pil", "hornberger2004")
    assert check.invalid == ("7", "fake2020")


def test_no_citations_nothing_flagged(hyperhidrosis) -> None:
    text, check = check_citations("Sweating is common; see a doctor.", hyperhidrosis.spec)
    assert text == "Sweating is common; see a doctor." and not check.hallucinated
