"""A real OpenAI-compatible chat-completions server on 127.0.0.1, with fault injection.

Tests and benchmarks talk to it through the real ``openai`` client, so retries, timeouts and
JSON repair are exercised over HTTP rather than by patching the client. It answers
``POST /v1/chat/completions`` with a valid vignette built from the facts listed in the prompt
(lines ``- [fact_id] statement``), unless a fault is injected:

* ``http_429``: 429 with ``Retry-After`` / ``retry-after-ms``;
* ``http_500``: 500;
* ``truncated_json``: 200 whose content is the first half of the JSON item;
* ``bad_key``: the answer letter is not among the options;
* ``bad_fact``: cites a fact id that is not in the spec;
* ``slow``: a valid reply, sent only after ``slow_s`` (longer than the client's timeout);
* ``http_400``: 400 for a reason unrelated to ``response_format`` (context length);
* ``length``: 200 whose content stops half-way, with ``finish_reason: "length"``.

The last two are not in :data:`FAULT_KINDS` (the default random mix); name them in ``kinds``.
Deterministic behaviours of a whole server (not drawn per request):

* ``style``: how a valid reply is dressed, one of :data:`STYLES` (reasoning blocks, reasoning
  sent as ``reasoning_content``, prose with braces before a fenced block, a draft object
  before the final one, ...);
* ``cut_at_max_tokens``: a reply longer than the request's ``max_tokens`` (one token = one
  whitespace-separated word) is cut there and sent with ``finish_reason: "length"``;
* ``format_error_status`` / ``format_error_message``: how a server that does not support
  ``response_format`` refuses it (400 or, like some llama.cpp builds, 500);
* ``script``: user-message substring -> message fields (``content``, ``reasoning_content``,
  ``finish_reason``) sent verbatim, for endpoints answering multiple-choice questions.

Faults are drawn from a seeded RNG, one draw per request. Counters: total requests, requests
per request-content hash (to spot repeated requests), faults by kind.

Standalone: ``python -m tests.helpers.chat_server --port 8011 --fault-rate 0.3 --latency 0.2
--stats-file stats.json`` (stats are rewritten after every request).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import signal
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FAULT_KINDS: tuple[str, ...] = (
    "http_429", "http_500", "truncated_json", "bad_key", "bad_fact", "slow",
)
#: The client-side event counter (raresupport.generate.teacher.EVENTS) each fault must bump.
FAULT_EVENTS: dict[str, str] = {
    "http_429": "http_429",
    "http_500": "http_5xx",
    "truncated_json": "invalid_json",
    "bad_key": "invalid_item",
    "bad_fact": "invalid_item",
    "slow": "timeouts",
}
#: Faults only drawn when named in ``kinds``.
EXTRA_KINDS: tuple[str, ...] = ("http_400", "length")
#: How a valid vignette reply is dressed (see :func:`dress`).
STYLES: tuple[str, ...] = (
    "json", "think", "reasoning", "thinking_tag", "unclosed_think", "reasoning_content",
    "prose_fence", "draft_then_final", "valid_draft_then_final", "item_then_note",
)
#: Prose a reasoning model writes before its answer; the braces must not be taken for JSON.
MUSING = (
    "The user wants one vignette as {case, question, options, answer}; the options map "
    "{A, B, C, D} to text and I must cite {fact_ids}. Let me check the facts first."
)
REQUEST_KEYS = ("model", "messages", "temperature", "max_tokens", "response_format")
_FACT = re.compile(r"^- \[([^\]]+)\] (.+)$", re.M)
_FOCUS = re.compile(r"turn on fact \[([^\]]+)\]")
_KEY = re.compile(r'under "([A-D])"')
_TASK = re.compile(r"^Task: (\w+)", re.M)
_WORDS = (
    "morning evening clinic school office warm cold humid stress exam meeting handshake paper "
    "keyboard shoes socks shirt collar stain odour anxiety friend partner parent sibling sport "
    "running cycling summer winter travel bus train driving phone tablet writing drawing music "
    "guitar piano cooking baking garden dog cat weekend holiday wedding interview presentation "
    "lecture library laboratory workshop factory warehouse shop market nurse teacher student"
).split()


def request_hash(body: dict[str, Any]) -> str:
    """sha256 of the request content (same canonical form as the teacher's cache key)."""
    content = {k: body.get(k) for k in REQUEST_KEYS}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class ServerConfig:
    """Behaviour knobs; every run with the same seed draws the same fault sequence."""

    fault_rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    latency: float = 0.0
    slow_s: float = 2.0
    retry_after_s: float = 0.05
    seed: int = 0
    #: never fault the same request content more than this (None = no cap)
    max_faults_per_request: int | None = None
    #: False: answer 400 to any request with response_format (as some servers do)
    supports_response_format: bool = True
    #: wrap replies to requests without response_format in prose + ``` fences
    fence_plain_replies: bool = True
    #: when set, requests whose bearer token differs are counted in auth_bad ...
    expected_api_key: str | None = None
    #: ... and, if this is True, answered with 401
    require_api_key: bool = False
    #: how a valid reply is dressed, one of STYLES
    style: str = "json"
    #: cut replies longer than the request's max_tokens (words) with finish_reason "length"
    cut_at_max_tokens: bool = False
    #: status and message of the refusal sent when response_format is not supported
    format_error_status: int = 400
    format_error_message: str = "response_format is not supported"
    #: message of an injected http_500 fault
    error_message: str = "internal error"
    #: user-message substring -> message fields sent verbatim (first match wins)
    script: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats_file: Path | None = None


@dataclass
class Stats:
    requests: int = 0
    by_hash: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    faults_by_hash: Counter = field(default_factory=Counter)
    format_rejections: int = 0
    max_tokens: Counter = field(default_factory=Counter)
    auth_ok: int = 0
    auth_bad: int = 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_hash": dict(self.by_hash),
            "faults": dict(self.faults),
            "injected": sum(self.faults.values()),
            "format_rejections": self.format_rejections,
            "max_tokens": dict(self.max_tokens),
            "auth_ok": self.auth_ok,
            "auth_bad": self.auth_bad,
        }


def build_item(prompt: str, digest: str) -> dict[str, Any]:
    """A valid vignette citing the prompt's facts; varied by ``digest`` so items aren't dupes."""
    facts = _FACT.findall(prompt) or [("unknown-fact", "no facts were listed in the prompt")]
    focus_id = (_FOCUS.search(prompt) or [None, facts[0][0]])[1]
    focus = next((f for f in facts if f[0] == focus_id), facts[0])
    key = (_KEY.search(prompt) or [None, "A"])[1]
    task = (_TASK.search(prompt) or [None, "diagnosis"])[1]
    rng = random.Random(digest)
    details = " ".join(rng.sample(_WORDS, 14))
    others = [f for f in facts if f != focus] or [focus]
    texts = [f"Not supported: {others[i % len(others)][1][:60]} ({digest[i:i + 6]})"
             for i in range(3)]
    texts.insert("ABCD".index(key), f"Supported: {focus[1][:60]} ({digest[9:15]})")
    return {
        "case": f"Case {digest[:8]}: a patient seen for {task}. {details}. {focus[1]}",
        "question": f"Which statement best fits this {task} case ({digest[16:22]})?",
        "options": dict(zip("ABCD", texts, strict=True)),
        "answer": key,
        "rationale": f"The case rests on fact {focus[0]}: {focus[1]}",
        "fact_ids": [focus[0]],
    }


class ChatServer:
    """Threaded HTTP server; use as a context manager or start()/stop()."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", **config: Any) -> None:
        self.config = ServerConfig(**config)
        self.stats = Stats()
        self._lock = threading.Lock()
        self._rng = random.Random(self.config.seed)
        self._httpd = _Server((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ChatServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self.write_stats()

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self.stats.snapshot()

    def write_stats(self) -> None:
        """Atomically rewrite the stats file (if any) so readers never see half a file."""
        path = self.config.stats_file
        if path is None:
            return
        with self._lock:
            text = json.dumps(self.stats.snapshot())
            tmp = Path(f"{path}.{threading.get_ident()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)

    def record(self, body: dict[str, Any], auth: str | None) -> tuple[str, str | None]:
        """Count the request and decide its fault (None = answer normally)."""
        digest = request_hash(body)
        cfg = self.config
        with self._lock:
            s = self.stats
            s.requests += 1
            s.by_hash[digest] += 1
            s.max_tokens[body.get("max_tokens", body.get("max_completion_tokens"))] += 1
            if cfg.expected_api_key is not None:
                ok = auth == f"Bearer {cfg.expected_api_key}"
                s.auth_ok += ok
                s.auth_bad += not ok
                if not ok and cfg.require_api_key:
                    return digest, "unauthorized"
            if body.get("response_format") and not cfg.supports_response_format:
                s.format_rejections += 1
                return digest, "format_unsupported"
            draw, kind = self._rng.random(), self._rng.choice(cfg.kinds) if cfg.kinds else None
            capped = (
                cfg.max_faults_per_request is not None
                and s.faults_by_hash[digest] >= cfg.max_faults_per_request
            )
            if kind is None or draw >= cfg.fault_rate or capped:
                return digest, None
            s.faults[kind] += 1
            s.faults_by_hash[digest] += 1
            return digest, kind


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256  # the default 5 drops SYNs under bursts, adding 1 s stalls

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            pass

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._send(400, {"error": {"message": "request body is not JSON"}})
                return
            digest, fault = server.record(body, self.headers.get("Authorization"))
            server.write_stats()
            try:
                self._answer(body, digest, fault)
            except ConnectionError:
                pass  # the client gave up (timeout) before the reply

        def _answer(self, body: dict[str, Any], digest: str, fault: str | None) -> None:
            cfg = server.config
            if cfg.latency:
                time.sleep(cfg.latency)
            if fault == "unauthorized":
                self._send(401, _error("invalid API key", None))
            elif fault == "format_unsupported":
                param = "response_format" if cfg.format_error_status < 500 else None
                self._send(cfg.format_error_status, _error(cfg.format_error_message, param))
            elif fault == "http_400":
                message = "This model's maximum context length is 4096 tokens"
                self._send(400, _error(message, "messages"))
            elif fault == "http_429":
                headers = {
                    "Retry-After": str(max(1, round(cfg.retry_after_s))),
                    "retry-after-ms": str(int(cfg.retry_after_s * 1000)),
                }
                self._send(429, _error("rate limit reached", None), headers)
            elif fault == "http_500":
                self._send(500, _error(cfg.error_message, None))
            else:
                if fault == "slow":
                    time.sleep(cfg.slow_s)
                self._send(200, _completion(body, digest, fault, cfg))

        def setup(self) -> None:
            super().setup()
            # No Nagle: small replies must not wait for the client's delayed ACK (~40 ms).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _error(message: str, param: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param}}


def dress(item_json: str, style: str) -> tuple[str, str | None]:
    """(content, reasoning_content) of a valid reply in ``style`` (see :data:`STYLES`)."""
    draft = json.dumps({"case": "draft", "options": {"A": "x"}})
    # a complete, valid item the model then revised: the final one must win
    valid_draft = json.dumps(json.loads(item_json) | {"case": "DRAFT, superseded below."})
    note = json.dumps({"note": "fact ids are from the list", "confidence": 0.9})
    content = {
        "json": item_json,
        "think": f"<think>\n{MUSING}\n</think>\n\n{item_json}",
        "reasoning": f"<reasoning>{MUSING} {draft}</reasoning>\n{item_json}",
        "thinking_tag": f"<Thinking>\n{MUSING}\n</Thinking>\n{item_json}",
        # templates that open <think> in the prompt: the reply starts inside the block
        "unclosed_think": f"{MUSING} {draft}\n</think>\n{item_json}",
        "reasoning_content": item_json,
        "prose_fence": f"{MUSING}\n\n```json\n{item_json}\n```\nI hope {{this}} helps.",
        "draft_then_final": f"First draft: {draft}\nFinal answer:\n{item_json}\nDone.",
        "valid_draft_then_final": f"```json\n{valid_draft}\n```\nRevised:\n{item_json}",
        "item_then_note": f"```json\n{item_json}\n```\nMetadata: {note}",
    }[style]
    return content, (MUSING if style == "reasoning_content" else None)


def _completion(
    body: dict[str, Any], digest: str, fault: str | None, cfg: ServerConfig
) -> dict[str, Any]:
    """A chat.completion object whose content is the (possibly faulty) vignette JSON."""
    prompt = "\n".join(
        m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "user"
    )
    scripted = next((v for k, v in cfg.script.items() if k in prompt), None)
    reasoning, finish = None, "stop"
    if scripted is not None:
        content = scripted.get("content")
        reasoning = scripted.get("reasoning_content")
        finish = scripted.get("finish_reason", "stop")
    else:
        item = build_item(prompt, digest)
        if fault == "bad_key":
            item["answer"] = "E"
        elif fault == "bad_fact":
            item["fact_ids"] = ["no-such-fact-id"]
        content = json.dumps(item)
        if fault == "truncated_json":
            content = content[: len(content) // 2]
        elif cfg.style != "json":
            content, reasoning = dress(content, cfg.style)
        elif not body.get("response_format") and cfg.fence_plain_replies:
            content = f"Here is the vignette you asked for:\n```json\n{content}\n```\nGood luck!"
        words = content.split(" ")
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        if fault == "length":
            content, finish = " ".join(words[: len(words) // 2]), "length"
        elif cfg.cut_at_max_tokens and limit is not None and len(words) > limit:
            content, finish = " ".join(words[:limit]), "length"
    prompt_tokens = sum(len((m.get("content") or "").split()) for m in body.get("messages", []))
    completion_tokens = len((content or "").split()) + len((reasoning or "").split())
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return {
        "id": f"chatcmpl-{digest[:16]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "test-model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def main(argv: list[str] | None = None) -> None:
    """Run until SIGTERM/SIGINT; prints the base URL on its first stdout line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port")
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument("--kinds", default=",".join(FAULT_KINDS), help="comma-separated fault kinds")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every reply")
    p.add_argument("--slow", type=float, default=2.0, help="seconds a 'slow' fault waits")
    p.add_argument("--retry-after", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-faults-per-request", type=int, default=None)
    p.add_argument("--no-response-format", action="store_true", help="400 on response_format")
    p.add_argument("--style", choices=STYLES, default="json", help="how valid replies look")
    p.add_argument("--cut-at-max-tokens", action="store_true", help="finish_reason length")
    p.add_argument("--format-error-status", type=int, default=400)
    p.add_argument("--format-error-message", default="response_format is not supported")
    p.add_argument("--stats-file", type=Path, default=None)
    a = p.parse_args(argv)
    kinds = tuple(k for k in a.kinds.split(",") if k)
    unknown = set(kinds) - set(FAULT_KINDS + EXTRA_KINDS)
    if unknown:
        known = ", ".join(FAULT_KINDS + EXTRA_KINDS)
        p.error(f"unknown fault kinds {sorted(unknown)}; known: {known}")
    server = ChatServer(
        port=a.port, host=a.host, fault_rate=a.fault_rate, kinds=kinds, latency=a.latency,
        slow_s=a.slow, retry_after_s=a.retry_after, seed=a.seed,
        max_faults_per_request=a.max_faults_per_request,
        supports_response_format=not a.no_response_format, stats_file=a.stats_file,
        style=a.style, cut_at_max_tokens=a.cut_at_max_tokens,
        format_error_status=a.format_error_status, format_error_message=a.format_error_message,
    )
    server.write_stats()
    print(server.base_url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server._httpd.serve_forever(poll_interval=0.05)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server._httpd.server_close()
        server.write_stats()


if __name__ == "__main__":
    main()
