"""``TeacherConfig``: how to reach the teacher and how hard to try (the one source of defaults).

The CLI and ``RunConfig`` only pass on what the user gave; every default lives here.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class TeacherConfig(BaseModel):
    """How to reach the teacher and how hard to try. Holds no secret: only the env var name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = Field(None, description="None = the OpenAI API.")
    model: str = Field("gpt-4o-mini", description="Teacher model name on the endpoint.")
    api_key_env: str = Field("OPENAI_API_KEY", description="Env var holding the API key.")
    concurrency: int = Field(8, ge=1, description="Requests in flight at once.")
    timeout_s: float = Field(60.0, gt=0, description="Seconds per request.")
    max_retries: int = Field(
        6, ge=0,
        description="Resends after a transient failure (429, 5xx, timeout, connection). A "
        "reply that fails the same way twice for the same request (cut, invalid JSON, "
        "invalid item) is not resent again.",
    )
    backoff_base_s: float = Field(0.5, ge=0, description="First back-off (seconds).")
    backoff_max_s: float = Field(30.0, ge=0, description="Also caps an honoured Retry-After.")
    temperature: float = Field(0.7, ge=0, le=2)
    max_tokens: int = Field(
        2048, ge=1,
        description="Completion token limit per reply. An item is ~300 tokens; the rest is "
        "room for a reasoning model's thinking. Kept at 2048 so prompt + limit fits a 4k "
        "context (vLLM refuses a request whose prompt + max_tokens exceeds the model's).",
    )
    cache_dir: Path | None = Field(None, description="None = ~/.cache/raresupport/teacher.")
    templates_dir: Path | None = Field(None, description="Templates overriding the disease's.")
    json_schema: bool = Field(
        True, description="Ask for a strict JSON schema (falls back when the server refuses)."
    )


def default_cache_dir() -> Path:
    """The per-user reply cache, used when the caller gives no ``cache_dir``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "raresupport" / "teacher"
