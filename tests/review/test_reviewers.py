"""Every registered reviewer, and the spec and terminal reviewers in detail."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from raresupport.review.reviewers import Reviewer, get_reviewer, reviewer_names
from raresupport.review.store import ReviewStore
from tests.review.conftest import make_items


def test_builtins_are_registered_and_follow_the_protocol() -> None:
    assert {"spec", "llm", "cli", "web"} <= set(reviewer_names())
    options = {"llm": {"model": "m", "base_url": "http://127.0.0.1:9/v1"}}
    for name in reviewer_names():
        reviewer = get_reviewer(name, **options.get(name, {}))
        assert isinstance(reviewer, Reviewer)
        assert reviewer.kind == name and reviewer.id


def test_unknown_reviewer_lists_known_ones() -> None:
    from raresupport.errors import RegistryError

    with pytest.raises(RegistryError, match="known: .*spec"):
        get_reviewer("nobody")


def test_spec_reviewer_approves_right_and_corrects_wrong(tmp_path: Path, hyperhidrosis) -> None:
    items = make_items(hyperhidrosis, 6)
    store = ReviewStore(tmp_path / "s.sqlite")
    store.add_items(items)
    reviewer = get_reviewer("spec")
    assert reviewer.review(store, items, hyperhidrosis) == 6
    assert reviewer.review(store, items, hyperhidrosis) == 0  # resumed: nothing left
    for item, d in zip(items, store.decisions(), strict=True):
        right = item.model_answer == item.key
        assert d.action == ("approve" if right else "correct")
        assert d.answer == item.key
        if not right:
            assert item.facts[0].statement in d.rationale and item.facts[0].id in d.rationale


def test_terminal_reviewer_one_key_per_decision(tmp_path: Path, hyperhidrosis) -> None:
    items = make_items(hyperhidrosis, 4)
    store = ReviewStore(tmp_path / "s.sqlite")
    store.add_items(items)
    keys = iter(["a", "c", "D", "s", "r", "q"])
    lines = iter(["because of the key fact", "ambiguous"])
    out = io.StringIO()
    reviewer = get_reviewer("cli", id="bob", getchar=lambda: next(keys),
                            readline=lambda prompt: next(lines),
                            console=Console(file=out, width=100))  # fmt: skip
    assert reviewer.review(store, items, hyperhidrosis) == 3
    got = [(d.item_id, d.action, d.answer) for d in store.decisions()]
    assert got == [(items[0].id, "approve", items[0].model_answer),
                   (items[1].id, "correct", "D"), (items[3].id, "reject", None)]  # fmt: skip
    assert "3 decision(s) saved; 1 item(s) left" in out.getvalue()


def test_terminal_reviewer_shows_markup_as_text(tmp_path: Path, hyperhidrosis) -> None:
    [item] = make_items(hyperhidrosis, 1)
    v = item.vignette
    marked = v.model_copy(update={"case": v.case + " [bold]x[/]"})
    item = item.model_copy(update={"vignette": marked})
    out = io.StringIO()
    reviewer = get_reviewer("cli", getchar=lambda: "q", console=Console(file=out, width=300))
    store = ReviewStore(tmp_path / "s.sqlite")
    store.add_items([item])
    reviewer.review(store, [item], hyperhidrosis)
    assert "[bold]x[/]" in out.getvalue()
