"""The generate scorer against a real chat-completions server on 127.0.0.1 (real openai client)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from raresupport.data.benchmark import MCQItem
from raresupport.errors import ConfigError, ModelError
from raresupport.evaluate import evaluate_model
from raresupport.models import Endpoint

#: question -> reply text the server sends back (one per supported answer format)
REPLIES = {
    "q-plain": "B",
    "q-paren": "(C)",
    "q-bold": "**A**",
    "q-answer": "Answer: D",
    "q-dot": "B. Botulinum toxin injections",
    "q-wrong": "A",
    "q-junk": "I am not sure, it depends.",
}
KEYS = {"q-plain": "B", "q-paren": "C", "q-bold": "A", "q-answer": "D", "q-dot": "B",
        "q-wrong": "B", "q-junk": "A"}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict[str, Any]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(body)
        user = body["messages"][-1]["content"]
        if "q-500" in user:
            self._send(500, {"error": {"message": "boom", "type": "server_error"}})
            return
        text = next(reply for q, reply in REPLIES.items() if q in user)
        self._send(200, {
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
        })  # fmt: skip

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def _item(q: str) -> MCQItem:
    opts = {"A": "Sympathectomy", "B": "Botulinum toxin", "C": "Iontophoresis", "D": "Oxybutynin"}
    return MCQItem(id=q, task="treatment", question=f"Case {q}: best next step?", options=opts,
                   answer=KEYS.get(q, "A"))  # fmt: skip


def test_generate_parses_replies_and_counts_failures_as_wrong(base_url):
    items = [_item(q) for q in REPLIES]
    result = evaluate_model(Endpoint("served-model", base_url), items, ("generate",),
                            batch_size=3, progress=False)["generate"]  # fmt: skip
    preds = {p.id: p for p in result.predictions}
    assert [preds[q].correct for q in REPLIES] == [True] * 5 + [False, False]
    assert preds["q-junk"].pred is None and preds["q-junk"].extra["parse_failure"]
    summary = result.summary()
    assert summary["parse_failures"] == 1
    assert summary["letter_distribution"]["none"] == 1
    sent = _Handler.seen[-1]
    assert sent["model"] == "served-model" and sent["temperature"] == 0
    assert "A. Sympathectomy" in sent["messages"][-1]["content"]  # letter-style prompt


def test_generate_server_error_is_a_one_line_model_error(base_url):
    endpoint = Endpoint("served-model", base_url)
    endpoint.client = endpoint._client().with_options(max_retries=0)
    with pytest.raises(ModelError, match="served-model.*q-500"):
        evaluate_model(endpoint, [_item("q-500")], ("generate",), progress=False)


def test_generate_without_endpoint_is_refused():
    with pytest.raises(ModelError, match="--base-url"):
        evaluate_model(Endpoint("m"), [_item("q-plain")], ("generate",), progress=False)


def test_a_logits_rule_over_an_endpoint_is_a_config_error():
    with pytest.raises(ConfigError, match="'loglik' scores a local backend"):
        evaluate_model(Endpoint("m", "http://127.0.0.1:1/v1"), [_item("q-plain")], ("loglik",))
