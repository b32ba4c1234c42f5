"""The ``llm`` reviewer against a local chat-completions server (faults injected there)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raresupport.errors import TeacherError
from raresupport.review.reviewers import get_reviewer
from raresupport.review.store import ReviewStore
from tests.helpers.chat_server import ChatServer
from tests.review.conftest import make_items


def _verdicts(items) -> dict[str, dict]:
    out = {}
    for n, item in enumerate(items):
        action = ("approve", "correct", "reject")[n % 3]
        out[f"Item: {item.id} ("] = {"content": json.dumps({
            "action": action, "answer": "C" if action == "correct" else None,
            "rationale": "C per [hh.def]" if action == "correct" else "",
            "reason": "flawed" if action == "reject" else "", "empathy": 2,
        })}  # fmt: skip
    return out


def _reviewer(server: ChatServer, tmp_path: Path, **extra):
    return get_reviewer("llm", model="judge", base_url=server.base_url, max_retries=4,
                        backoff_base_s=0.01, cache_dir=str(tmp_path / "cache"),
                        api_key_env="RS_TEST_NO_KEY", **extra)  # fmt: skip


def test_decisions_survive_429_500_and_a_server_without_response_format(
    tmp_path: Path, hyperhidrosis
) -> None:
    items = make_items(hyperhidrosis, 6)
    store = ReviewStore(tmp_path / "s.sqlite")
    store.add_items(items)
    with ChatServer(script=_verdicts(items), fault_rate=0.4, kinds=("http_429", "http_500"),
                    max_faults_per_request=2, retry_after_s=0.01,
                    supports_response_format=False) as server:  # fmt: skip
        reviewer = _reviewer(server, tmp_path)
        assert reviewer.review(store, items, hyperhidrosis) == 6
        stats = server.snapshot()
        assert stats["injected"] > 0 and stats["format_rejections"] >= 1
        got = [(d.action, d.answer, d.rubric.empathy) for d in store.decisions()]
        assert got == [
            ("approve", items[0].model_answer, 2), ("correct", "C", 2), ("reject", None, 2),
            ("approve", items[3].model_answer, 2), ("correct", "C", 2), ("reject", None, 2),
        ]
        # a second reviewer with the same settings reads the cache: no new request
        before = server.snapshot()["requests"]
        other = ReviewStore(tmp_path / "other.sqlite")
        other.add_items(items)
        assert _reviewer(server, tmp_path).review(other, items, hyperhidrosis) == 6
        assert server.snapshot()["requests"] == before


def test_an_unusable_verdict_leaves_the_item_undecided(tmp_path: Path, hyperhidrosis) -> None:
    items = make_items(hyperhidrosis, 2)
    script = _verdicts(items)
    script[f"Item: {items[1].id} ("] = {"content": '{"action": "maybe"}'}
    store = ReviewStore(tmp_path / "s.sqlite")
    store.add_items(items)
    with ChatServer(script=script) as server:
        assert _reviewer(server, tmp_path).review(store, items, hyperhidrosis) == 1
    assert [d.item_id for d in store.decisions()] == [items[0].id]


def test_refused_key_ends_the_review_with_one_clear_error(tmp_path: Path, hyperhidrosis):
    items = make_items(hyperhidrosis, 1)
    store = ReviewStore(tmp_path / "s.sqlite")
    store.add_items(items)
    with ChatServer(expected_api_key="right", require_api_key=True) as server:
        with pytest.raises(TeacherError, match="HTTP 401"):
            _reviewer(server, tmp_path).review(store, items, hyperhidrosis)
    assert store.count() == 0


def test_the_disease_rubric_template_is_used(hyperhidrosis) -> None:
    from raresupport.review.reviewers.llm import review_env

    [item] = make_items(hyperhidrosis, 1)
    reviewer = get_reviewer("llm", model="judge")
    system, user = reviewer.messages(review_env(hyperhidrosis), item, hyperhidrosis.spec)
    assert hyperhidrosis.spec.name in system["content"]
    assert "primary focal hyperhidrosis is told apart" in user["content"]  # the override
    assert f"Item: {item.id} (" in user["content"] and item.facts[0].statement in user["content"]
    assert '"action"' in user["content"]  # the default's answer format, kept by super()
