"""Reading the vignette out of a reply: reasoning blocks, prose with braces, fences, drafts.

Unit cases for :func:`parse_reply`, a property over arbitrary reasoning text, and every reply
style of the fault-injection server through the real openai client (items accepted, with the
content the server meant, at one request each).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raresupport.diseases import Disease
from raresupport.generate.teacher import LETTERS, last_object, parse_reply
from tests.generate.teacher.conftest import TASKS, make_teacher
from tests.helpers.chat_server import MUSING, STYLES, ChatServer

OBJ = {"case": "A 30-year-old {nurse}", "options": {"A": "x", "B": "y"}, "answer": "B"}
ITEM = json.dumps(OBJ)
DRAFT = json.dumps({"case": "draft"})


@pytest.mark.parametrize(
    "reply",
    [
        ITEM,
        f"<think>\n{MUSING}\n</think>\n\n{ITEM}",
        f"<think>{MUSING} {DRAFT}</think>{ITEM}",
        f"<reasoning>{MUSING}</reasoning>\n{ITEM}",
        f"<Thinking>{MUSING}</Thinking> {ITEM}",
        f"<thought>{DRAFT}</thought>{ITEM}",
        f"<scratchpad>{DRAFT}</scratchpad>\n```json\n{ITEM}\n```",
        f"<reflection>{MUSING}</reflection>{ITEM}",
        f"[THINK]{MUSING} {DRAFT}[/THINK]\n{ITEM}",
        f"<|begin_of_thought|>{DRAFT}<|end_of_thought|><|begin_of_solution|>{ITEM}"
        "<|end_of_solution|>",
        f"◁think▷{DRAFT}◁/think▷{ITEM}",
        f"<think>{DRAFT}</think><answer>{ITEM}</answer>",
        f"<analysis>{MUSING}</analysis>{ITEM}",
        f'<think type="x">{MUSING}</think>{ITEM}',
        f"{MUSING} {DRAFT}\n</think>\n{ITEM}",  # template opened <think>: only the close shows
        f"{MUSING}\n\n```json\n{ITEM}\n```\nI hope {{this}} helps.",
        f"Prose {{a, b}} then\n```\n{ITEM}\n```",
        f"```json\n{DRAFT}\n```\nfixed:\n```json\n{ITEM}\n```",
        f"Draft: {DRAFT}\nFinal:\n{ITEM}\nDone {{really}}.",
        f"{ITEM}\nNote: the options are {{A, B}}.",
        f"<|channel|>analysis<|message|>{DRAFT}<|end|><|start|>assistant<|channel|>final"
        f"<|message|>{ITEM}<|return|>",
    ],
)
def test_the_final_object_is_read_past_reasoning_and_prose(reply: str) -> None:
    assert parse_reply(reply) == OBJ


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("", "empty reply"),
        (f"<think>{MUSING} {ITEM}</think>", "empty reply"),  # the object was only thought
        (f"<think>{MUSING} {ITEM}", "empty reply"),  # cut while thinking
        (f"{MUSING}", "no JSON object"),
        (ITEM[: len(ITEM) // 2 + 9], "no JSON object"),  # cut: no inner object taken for it
        (f"<think>x</think>{ITEM[:-1]}", "no JSON object"),
        ("[1, 2]", "expected a JSON object, got list"),
    ],
)
def test_no_object_is_an_error_naming_why(reply: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_reply(reply)


_objects = st.dictionaries(st.text(max_size=8), st.text(max_size=20) | st.integers(), max_size=4)
_prose = st.text(max_size=80).filter(lambda t: "think>" not in t.lower())


@given(obj=_objects, musing=_prose, before=_prose.filter(lambda t: "{" not in t and "`" not in t))
def test_any_reasoning_text_is_ignored(obj: dict, musing: str, before: str) -> None:
    text = json.dumps(obj, ensure_ascii=False)
    assert parse_reply(f"<think>{musing}</think>{before}{text}") == obj
    assert last_object(f"{before}{text}") == obj


@pytest.mark.parametrize("style", [s for s in STYLES if s != "json"])
def test_every_reply_style_is_accepted_through_the_server(
    style: str, zebra: Disease, tmp_path: Path
) -> None:
    with ChatServer(style=style) as server:
        result = make_teacher(server, tmp_path / "cache").generate(zebra, 3, TASKS, seed=0)
        requests = server.snapshot()["requests"]
    assert requests == 3 and result.rejects == []
    assert [v.answer for v in result.vignettes] == list(LETTERS[:3])  # the planned keys
    for v in result.vignettes:
        assert v.case.startswith("Case ") and len(v.options) == 4  # not a draft
        assert v.fact_ids and set(v.fact_ids) <= zebra.spec.fact_ids
    assert result.events["invalid_json"] == result.events["invalid_item"] == 0
