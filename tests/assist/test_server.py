"""`serve`: the real openai client against the endpoint on 127.0.0.1, streaming and not."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import openai
import pytest

from raresupport.assist import Assistant
from raresupport.assist.server import create_app, make_server
from tests.assist.conftest import ScriptedBackend

TOKEN = "test-token"
QUESTION = "I've had night sweats and weight loss. Which antiperspirant should I use?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(hyperhidrosis) -> Iterator[tuple[str, ScriptedBackend]]:
    backend = ScriptedBackend("Aluminium chloride [tx.alcl.first-line] or [zz.fake] may help.")
    app = create_app(Assistant(hyperhidrosis.spec, backend), "hh-test", token=TOKEN)
    port = _free_port()
    srv = make_server(app, "127.0.0.1", port)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1", backend
    srv.should_exit = True
    thread.join(timeout=10)


def _client(url: str, key: str = TOKEN) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=60)


def test_non_streaming(server, hyperhidrosis) -> None:
    url, _ = server
    resp = _client(url).chat.completions.create(
        model="hh-test", messages=[{"role": "user", "content": QUESTION}]
    )
    text = resp.choices[0].message.content
    assert text.startswith(hyperhidrosis.spec.assistant.urgent_referral.format(
        disease="Hyperhidrosis"))  # fmt: skip
    assert resp.choices[0].finish_reason == "stop" and resp.model == "hh-test"
    meta = resp.model_extra["raresupport"]
    assert meta["citations"]["invalid"] == ["zz.fake"] and "zz.fake" not in text
    assert set(meta["flags"]) == {"red_flag", "hallucinated_citation"}


def test_streaming_gives_the_same_text(server) -> None:
    url, _ = server
    client = _client(url)
    messages = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model="hh-test", messages=messages)
    chunks = list(client.chat.completions.create(model="hh-test", messages=messages, stream=True))
    assert len(chunks) >= 4
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["raresupport"]["flags"] == ["red_flag", "hallucinated_citation"]


def test_bearer_token_is_required(server) -> None:
    url, backend = server
    before = len(backend.requests)
    with pytest.raises(openai.AuthenticationError):
        _client(url, "wrong").chat.completions.create(
            model="hh-test", messages=[{"role": "user", "content": "hi"}]
        )
    assert len(backend.requests) == before  # the model never ran


def test_no_user_message_is_a_400(server) -> None:
    url, _ = server
    with pytest.raises(openai.BadRequestError, match="no user message"):
        _client(url).chat.completions.create(
            model="hh-test", messages=[{"role": "system", "content": "hi"}]
        )


def test_models_lists_the_served_name(server) -> None:
    url, _ = server
    assert [m.id for m in _client(url).models.list()] == ["hh-test"]


def test_an_emergency_comes_first_streaming_and_not(server) -> None:
    from raresupport.assist.emergency import REGION_NEUTRAL, library

    url, _ = server
    client = _client(url)
    messages = [{"role": "user", "content": "My dad is diabetic on insulin and is suddenly "
                 "sweaty, shaky and confused. Is it his hyperhidrosis?"}]  # fmt: skip
    header = library().header.format(emergency=REGION_NEUTRAL)
    whole = client.chat.completions.create(model="hh-test", messages=messages)
    assert whole.choices[0].message.content.startswith(header)
    meta = whole.model_extra["raresupport"]
    assert meta["flags"][0] == "emergency"
    assert [e["id"] for e in meta["emergencies"]] == ["hypoglycaemia"]
    chunks = list(client.chat.completions.create(model="hh-test", messages=messages, stream=True))
    first = next(c.choices[0].delta.content for c in chunks if c.choices[0].delta.content)
    assert first.startswith(header) and "low blood sugar" in first
    assert chunks[-1].model_extra["raresupport"]["flags"][0] == "emergency"
