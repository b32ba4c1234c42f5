"""Server errors classified by what they say (fault-injection server, real openai client).

A refusal of ``response_format`` falls back to plain JSON whatever its status; an unrelated
error never does; the server's message always reaches the reject reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from raresupport.diseases import Disease
from raresupport.generate.teacher.failures import MESSAGE_CHARS
from tests.generate.teacher.conftest import TASKS, make_teacher
from tests.helpers.chat_server import ChatServer


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, "json_schema: failed to parse grammar"),  # llama.cpp builds answering 500
        (500, "Unsupported response_format type"),
        (400, "'response_format' of type 'json_schema' is not supported with this model"),
        (422, "guided_json: invalid schema"),
        (501, "Structured outputs are not implemented"),
    ],
)
def test_refused_response_format_falls_back_whatever_the_status(
    status: int, message: str, zebra: Disease, tmp_path: Path
) -> None:
    server = ChatServer(
        supports_response_format=False, format_error_status=status, format_error_message=message
    )
    with server:
        result = make_teacher(server, tmp_path / "cache").generate(zebra, 6, TASKS, seed=0)
        stats = server.snapshot()
    assert len(result.vignettes) == 6 and result.rejects == []
    assert result.events["response_format_fallbacks"] == 1
    assert 1 <= stats["format_rejections"] <= 4  # one in-flight wave at most
    assert stats["requests"] == 6 + stats["format_rejections"]


def test_unrelated_500_is_retried_not_a_fallback_and_its_message_kept(
    zebra: Disease, tmp_path: Path
) -> None:
    with ChatServer(fault_rate=1.0, kinds=("http_500",)) as server:
        gen = make_teacher(server, tmp_path / "cache", max_retries=2)
        result = gen.generate(zebra, 2, TASKS, seed=0)
        assert server.snapshot()["requests"] == 2 * 3
    assert result.events["response_format_fallbacks"] == 0 and result.vignettes == []
    assert [r.reason for r in result.rejects] == [
        "http_5xx: HTTP 500: internal error (after 3 attempts)"
    ] * 2


def test_unrelated_400_is_final_not_a_fallback_and_its_message_kept(
    zebra: Disease, tmp_path: Path
) -> None:
    with ChatServer(fault_rate=1.0, kinds=("http_400",)) as server:
        result = make_teacher(server, tmp_path / "cache").generate(zebra, 3, TASKS, seed=0)
        assert server.snapshot()["requests"] == 3  # a 400 for this request is not resent
    assert result.events["response_format_fallbacks"] == 0 and result.vignettes == []
    assert {r.reason for r in result.rejects} == {
        "http_4xx: HTTP 400: This model's maximum context length is 4096 tokens (after 1 attempt)"
    }


def test_a_long_server_message_is_cut_to_one_line(zebra: Disease, tmp_path: Path) -> None:
    message = "worker crashed:\n" + "x" * 1000
    with ChatServer(fault_rate=1.0, kinds=("http_500",), error_message=message) as server:
        result = make_teacher(server, tmp_path / "cache", max_retries=0).generate(
            zebra, 1, TASKS, seed=0
        )
    (reject,) = result.rejects
    kept = reject.reason.removeprefix("http_5xx: HTTP 500: ").split(" (after")[0]
    assert kept.startswith("worker crashed: xxx") and len(kept) == MESSAGE_CHARS
    assert "\n" not in reject.reason and result.events["response_format_fallbacks"] == 0
