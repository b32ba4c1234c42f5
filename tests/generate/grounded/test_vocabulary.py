"""The generator is disease-agnostic: every disease word in an item comes from that disease."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from raresupport.data.vignette import Vignette

_WORD = re.compile(r"[a-z]+")

#: Generic English and clinic words the generator's own frames use for every disease. A word
#: here is not a disease's vocabulary; anything clinical specific to one disease must not be.
STOP = set("""
a about after an and are as asks at based be because better books boy but by call calls can care
condition girl leaflet
changes choice clinic clinician comes consultation control corresponds daily describes despite
did do during else elsewhere enough evidence explains follow for from has have he her here his
home how i if improvement in is it its just known later life little mean medication months most
new not nurse of old on or over part patient problem reassure reports review second seen she
should start started starting starts stopped supportive than that the them there they third this
to using visit was weeks what when which who will with works worried worse year years you
""".split())

_SRC = Path(__file__).parents[3] / "src" / "raresupport"


def _words(x: Any) -> set[str]:
    if isinstance(x, str):
        return set(_WORD.findall(x.lower()))
    if isinstance(x, dict):
        return set().union(set(), *(_words(k) | _words(v) for k, v in x.items()))
    if isinstance(x, list | tuple):
        return set().union(set(), *(_words(v) for v in x))
    return set()


def _item_words(items: list[Vignette]) -> set[str]:
    return _words([[v.case, v.question, v.rationale, *v.options.values()] for v in items])


def _leaks(spec_a, spec_b, items_b: list[Vignette]) -> set[str]:
    """Words of spec A in items of disease B that B's own spec never uses (beyond STOP)."""
    a = _words(spec_a.model_dump(mode="json", by_alias=True))
    b = _words(spec_b.model_dump(mode="json", by_alias=True))
    return (_item_words(items_b) & a) - b - STOP


def test_no_word_of_one_disease_in_the_others_items(hh, zebra, hh_items, zebra_items) -> None:
    assert len(zebra_items) == len(hh_items) == 600
    assert _leaks(hh.spec, zebra.spec, zebra_items) == set()
    assert _leaks(zebra.spec, hh.spec, hh_items) == set()


def test_the_check_catches_a_hard_coded_disease_word(hh, zebra, zebra_items) -> None:
    """The leak test is not vacuous: one hyperhidrosis word in a zebra item is caught."""
    bad = zebra_items[0].model_copy(update={"case": zebra_items[0].case + " Drenching palms."})
    assert _leaks(hh.spec, zebra.spec, [bad]) == {"drenching", "palms"}


def test_every_item_structure_ran_for_both_diseases(hh_items, zebra_items) -> None:
    """The vocabulary test covers follow-ups, claims and recall, not only the common items."""
    for items in (hh_items, zebra_items):
        tags = {t for v in items for t in v.tags}
        assert {"followup", "claim", "avoid"} <= tags
        assert any("____" in v.question for v in items)


def test_generator_and_demo_sources_hold_no_reference_disease_words() -> None:
    """The words issue 15 found hard-coded (and the disease's main words) are gone from code."""
    found_before = {"sweating", "sweat", "drenching", "hyperhidrosis", "palms", "axillae",
                    "botulinum", "generalized", "glycopyrronium"}
    files = [*sorted((_SRC / "generate" / "grounded").glob("*.py")), _SRC / "train" / "demo.py"]
    for path in files:
        assert not _words(path.read_text()) & found_before, path
