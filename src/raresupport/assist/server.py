"""An OpenAI-compatible ``/v1/chat/completions`` endpoint in front of an :class:`Assistant`.

Non-streaming and streaming (server-sent events, ``data: {chunk}`` ... ``data: [DONE]``)
replies follow the chat-completions schema, so the ``openai`` client and chat UIs work as is.
Each response also carries ``raresupport``: the reply's metadata (emergencies, red flags,
citations checked, passages quoted, flags). Bound to 127.0.0.1 by default; an optional bearer
token guards it.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from raresupport.assist.assistant import Assistant, AssistantReply
from raresupport.errors import RareSupportError


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, top_p, ... are accepted and ignored

    model: str | None = None
    messages: list[ChatMessage]
    stream: bool = False


def _error(status: int, message: str, kind: str) -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse(status_code=status, content={"error": {"message": message, "type": kind}})


def create_app(assistant: Assistant, model_name: str = "raresupport", token: str | None = None):
    """A FastAPI app serving ``assistant`` as ``model_name``.

    Args:
        token: if given, requests need ``Authorization: Bearer <token>`` (else 401).
    """
    from fastapi import FastAPI, Request
    from fastapi.responses import StreamingResponse

    app = FastAPI(title="raresupport assistant", docs_url=None, redoc_url=None)

    @app.middleware("http")
    async def _auth(request: Request, call_next):
        if token is not None:
            given = request.headers.get("authorization", "")
            if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return _error(401, "missing or wrong bearer token", "invalid_request_error")
        return await call_next(request)

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": model_name, "object": "model", "owned_by": "raresupport"}],
        }

    @app.post("/v1/chat/completions")
    def chat_completions(body: ChatRequest) -> Any:
        messages = [{"role": m.role, "content": m.text()} for m in body.messages]
        if not any(m["role"] == "user" and m["content"].strip() for m in messages):
            return _error(400, "messages: no user message to answer", "invalid_request_error")
        meta = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()),
                "model": body.model or model_name}  # fmt: skip
        if body.stream:
            return StreamingResponse(_sse(assistant, messages, meta),
                                     media_type="text/event-stream")  # fmt: skip
        try:
            reply = assistant.reply(messages)
        except RareSupportError as exc:
            return _error(400, str(exc), "invalid_request_error")
        return {
            **meta, "object": "chat.completion",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": reply.text}}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "raresupport": reply.metadata(),
        }  # fmt: skip

    return app


def _chunk(meta: dict[str, Any], delta: dict[str, Any], finish: str | None = None, **extra):
    body = {
        **meta,
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"  # fmt: skip


def _sse(assistant: Assistant, messages: list[dict[str, str]], meta: dict) -> Iterator[str]:
    yield _chunk(meta, {"role": "assistant", "content": ""})
    for piece in assistant.stream(messages):
        if isinstance(piece, AssistantReply):
            yield _chunk(meta, {}, "stop", raresupport=piece.metadata())
        elif piece:
            yield _chunk(meta, {"content": piece})
    yield "data: [DONE]\n\n"


def make_server(app: Any, host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning"):
    """A ``uvicorn.Server`` for ``app`` (call ``.run()``; tests run it in a thread)."""
    import uvicorn

    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level))
