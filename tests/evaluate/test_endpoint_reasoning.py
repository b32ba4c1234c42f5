"""The ``generate`` rule against reasoning models (fault-injection server, real openai client).

The letter comes from the final answer, never from a reasoning block or ``reasoning_content``;
``content: null`` is handled; every failure has a reason that reaches metrics.json and the
printed summary; the token budget is a flag whose default leaves room to think.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from raresupport.cli import app
from raresupport.data.benchmark import MCQItem
from raresupport.data.jsonl import write_jsonl
from raresupport.evaluate import evaluate_model
from raresupport.evaluate.parse import read_answer
from raresupport.models import Endpoint
from raresupport.replies import Reply
from tests.helpers.chat_server import ChatServer

#: question id -> (message the server sends, expected letter, expected failure reason)
CASES: dict[str, tuple[dict, str | None, str | None]] = {
    "q-think": ({"content": "<think>Answer: B? The answer is (B)... no.</think>\nAnswer: C"},
                "C", None),
    "q-reasoning-field": ({"content": "The answer is D.", "reasoning_content": "Answer: A"},
                          "D", None),
    "q-unclosed": ({"content": "Answer: B, or **A**?\n</think>\n(A)"}, "A", None),
    "q-tag": ({"content": "<reasoning>Answer: C</reasoning><answer>B</answer>"}, "B", None),
    "q-bracket": ({"content": "[THINK]Answer: A[/THINK]\n(D)"}, "D", None),
    "q-solution": ({"content": "<|begin_of_thought|>Answer: A<|end_of_thought|>\n"
                               "<|begin_of_solution|>\nAnswer: C\n<|end_of_solution|>"}, "C", None),
    "q-null-cut": ({"content": None, "reasoning_content": "Answer: B. Let me re-check",
                    "finish_reason": "length"}, None, "truncated"),
    "q-cut-in-think": ({"content": "<think>Answer: B, I think, but", "finish_reason": "length"},
                       None, "truncated"),
    "q-null": ({"content": None, "reasoning_content": "Answer: C."}, None, "empty"),
    "q-empty-after-think": ({"content": "<think>(B)</think>\n"}, None, "empty"),
    "q-junk": ({"content": "It depends on the patient."}, None, "no letter"),
}  # fmt: skip


def _items() -> list[MCQItem]:
    opts = {"A": "Sympathectomy", "B": "Botulinum toxin", "C": "Iontophoresis", "D": "Oxybutynin"}
    return [MCQItem(id=q, task="treatment", question=f"Case {q}: best next step?", options=opts,
                    answer=letter or "A") for q, (_, letter, _) in CASES.items()]  # fmt: skip


def _server() -> ChatServer:
    return ChatServer(script={f"Case {q}:": msg for q, (msg, _, _) in CASES.items()})


def test_letters_come_from_the_final_answer_and_failures_have_reasons() -> None:
    with _server() as server:
        result = evaluate_model(Endpoint("m", server.base_url), _items(), ("generate",),
                                batch_size=3, progress=False)["generate"]  # fmt: skip
        seen = server.snapshot()["max_tokens"]
    preds = {p.id: p for p in result.predictions}
    for q, (_, letter, reason) in CASES.items():
        assert (preds[q].pred, preds[q].extra["parse_failure"]) == (letter, reason), q
    assert seen == {"4096": len(CASES)} or seen == {4096: len(CASES)}  # room to think
    summary = result.summary()
    assert summary["parse_failures"] == 5
    assert summary["parse_failure_reasons"] == {"truncated": 2, "empty": 2, "no letter": 1}


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply("<thinking>A</thinking>B"), ("B", None)),
        (Reply("◁think▷(A)◁/think▷ **C**"), ("C", None)),
        (Reply("<think>A</think><answer>The answer is (B)</answer> (C) was wrong"), ("B", None)),
        (Reply("<think>\nB\n</think>", finish_reason="stop"), (None, "empty")),
        (Reply("Answer: C", finish_reason="length"), ("C", None)),  # the answer came in time
        (Reply("I would pick", finish_reason="length"), (None, "truncated")),
        (Reply(None, "Answer: A"), (None, "empty")),
        ("(D)", ("D", None)),
    ],
)
def test_read_answer(reply: Reply | str, expected: tuple) -> None:
    assert read_answer(reply, "ABCD") == expected


def test_eval_cli_budget_flag_metrics_and_printed_reasons(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bench = write_jsonl(tmp_path / "bench.jsonl", _items())
    out = tmp_path / "eval"
    with _server() as server:
        res = CliRunner().invoke(app, [
            "eval", "--model", "m", "--base-url", server.base_url, "--benchmark", str(bench),
            "--method", "generate", "--out", str(out), "--max-tokens", "77",
        ])  # fmt: skip
        seen = server.snapshot()["max_tokens"]
    assert res.exit_code == 0, res.output
    assert seen in ({"77": len(CASES)}, {77: len(CASES)})
    block = json.loads((out / "metrics.json").read_text())["benchmarks"]["bench"]
    generate = block["by_method"]["generate"]
    assert generate["parse_failure_reasons"] == {"truncated": 2, "empty": 2, "no letter": 1}
    assert generate["overall"] == pytest.approx(6 / len(CASES))
    assert (
        f"generate: no answer letter in 5 of {len(CASES)} replies (truncated 2, empty 2, "
        "no letter 1); raise --max-tokens (now 77); e.g. item q-null-cut (truncated)"
    ) in caplog.text
