"""What a failed teacher attempt means for the retry loop, decided by what the server said.

Three kinds of failure:

* **transient** (429, 5xx, 408/409, timeouts, lost connections): resent with back-off, up to
  ``max_retries`` times;
* **content** (a reply cut at the token limit, not JSON, not a valid item): resent once; the
  same failure twice for the identical request is taken as deterministic and ends the item;
* **final** (another 4xx): retrying the identical request cannot help; the item is rejected.

A server that refuses ``response_format`` (by status 400, 422 or, in some llama.cpp builds,
500) is recognised by what its message or ``param`` says, never by the status alone; the run
then falls back to plain JSON. Every reject reason carries the server's own message, cut to
:data:`MESSAGE_CHARS` characters, except for 401/403, whose messages may echo the API key.
"""

from __future__ import annotations

import email.utils
import re
import time
from typing import Any

import openai

from raresupport.errors import TeacherError

#: Longest server message kept in a reject reason or log line.
MESSAGE_CHARS = 200
#: A server message about structured output (OpenAI, vLLM guided decoding, llama.cpp grammars,
#: Ollama ``format``, LM Studio); matched case-insensitively.
_FORMAT_WORDS = re.compile(
    r"response[_ ]?format|json[_ ]?schema|json[_ ]object|structured[_ ]output|guided[_ ]"
    r"(?:json|decoding)|grammar|\bschema\b",
    re.I,
)


class Failure(Exception):
    """A failed attempt; ``event`` names the counter it bumps, ``kind`` what to do next."""

    def __init__(
        self, event: str, detail: str, kind: str = "transient", retry_after: float | None = None
    ) -> None:
        super().__init__(f"{event}: {detail}")
        self.event = event
        self.kind = kind  # "transient" | "content" | "final"
        self.retry_after = retry_after
        #: cache key of the request that failed (content failures: to spot repeats)
        self.request_key = ""


class FormatUnsupported(Exception):
    """The server refused ``response_format``: resend without it."""


def server_message(exc: openai.APIStatusError) -> str:
    """The server's own error message, on one line, at most :data:`MESSAGE_CHARS` long."""
    body = exc.body
    message: Any = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("detail") or body.get("error")
        if isinstance(message, dict):
            message = message.get("message")
    elif isinstance(body, str):
        message = body
    text = " ".join(str(message or exc.message or "").split())
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def is_format_error(exc: openai.APIStatusError) -> bool:
    """The error is about ``response_format`` (its ``param`` or its message says so)."""
    param = str(getattr(exc, "param", None) or "")
    return "response_format" in param or bool(_FORMAT_WORDS.search(server_message(exc)))


def retry_after(exc: openai.APIStatusError) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms``, ``retry-after`` or a date)."""
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            pass
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            continue
    return None


def classify(exc: Exception, sent_format: bool) -> Exception:
    """Map a client exception to what the retry loop does with it.

    Returns FormatUnsupported when the request carried ``response_format`` and the error is
    about it (any status), a TeacherError (which ends the run) for authentication and endpoint
    errors, which no retry or other item can fix, and a Failure otherwise.
    """
    if isinstance(exc, openai.APITimeoutError):
        return Failure("timeouts", "request timed out")
    if isinstance(exc, openai.APIConnectionError):
        return Failure("connection_errors", str(exc))
    if not isinstance(exc, openai.APIStatusError):
        return Failure("invalid_json", f"unreadable response: {exc}", "content")
    status = exc.status_code
    if status in (401, 403):
        # The server's message is left out for 401/403: some echo part of the key back.
        return TeacherError(
            f"teacher endpoint refused the request (HTTP {status}): check the base URL, the model "
            "name and the API key environment variable"
        )
    message = server_message(exc)
    if sent_format and status not in (429, 404) and is_format_error(exc):
        return FormatUnsupported(f"HTTP {status}: {message}")
    if status == 404:
        return TeacherError(
            f"teacher endpoint refused the request (HTTP 404): check the base URL and the model "
            f"name ({message})"
        )
    if status == 429:
        return Failure("http_429", f"HTTP 429: {message}", retry_after=retry_after(exc))
    if status >= 500:
        return Failure("http_5xx", f"HTTP {status}: {message}")
    if status in (408, 409):
        return Failure("http_4xx", f"HTTP {status}: {message}")
    return Failure("http_4xx", f"HTTP {status}: {message}", "final")
