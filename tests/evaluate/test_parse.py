"""Reading the chosen letter out of a chat model's free-text reply."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raresupport.evaluate.parse import parse_answer_letter


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("B", "B"),
        ("(B)", "B"),
        ("**B**", "B"),
        ("Answer: B", "B"),
        ("B. Primary focal hyperhidrosis", "B"),
        ("  C\n", "C"),
        ("D) Oral glycopyrronium", "D"),
        ("**Answer:** A", "A"),
        ("**B. Botulinum toxin**", "B"),
        ("The answer is (C) because ...", "C"),
        ("Final answer: D", "D"),
        ("I would choose (A).", "A"),
    ],
)
def test_parses_the_usual_formats(text, letter):
    assert parse_answer_letter(text) == letter


@pytest.mark.parametrize(
    "text",
    [
        "",
        "A 45-year-old man would need further tests.",  # article, not an answer
        "answer: b",  # lower case is prose, not a letter
        "It depends on the history.",
        "Either (A) or (B).",  # two marked letters: ambiguous
        "E",  # not one of the options
    ],
)
def test_refuses_to_guess(text):
    assert parse_answer_letter(text, "ABCD") is None


letters = st.sampled_from("ABCDEF")
prose = st.text(alphabet=st.characters(categories=("Ll", "Nd", "Zs")), max_size=40)


@given(letters, prose)
def test_letter_then_text_is_read_whatever_the_text(letter, text):
    assert parse_answer_letter(f"{letter}. {text}", "ABCDEF") == letter
    assert parse_answer_letter(f"**{letter}** {text}", "ABCDEF") == letter


@given(letters, prose)
def test_answer_marker_after_any_lowercase_preamble(letter, text):
    assert parse_answer_letter(f"{text}\nAnswer: {letter}", "ABCDEF") == letter


@given(prose)
def test_text_without_capital_letters_never_parses(text):
    assert parse_answer_letter(text, "ABCDEF") is None
