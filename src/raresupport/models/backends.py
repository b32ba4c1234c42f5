"""The two model backends scoring rules run over (lm-evaluation-harness's ``LM`` split).

* :class:`LocalModel`: a transformers causal LM and its tokenizer in this process; it exposes
  logits, so the ``letter`` and ``loglik`` rules can read them.
* :class:`Endpoint`: an OpenAI-compatible chat-completions server; it exposes text only, so the
  ``generate`` rule asks it and parses the reply.

A scoring rule declares which backend it needs (``Scorer.backend``); no argument is ever
"sometimes a model, sometimes a model name".
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from raresupport.errors import ModelError

BackendKind = Literal["local", "endpoint"]


@dataclass
class LocalModel:
    """A loaded causal LM (eval mode) with its tokenizer.

    Attributes:
        model: a ``transformers`` ``PreTrainedModel`` (or a PEFT wrapper of one).
        tokenizer: its tokenizer, with a pad token.
        name: the name it was loaded by (short name, folder or HF id), for reports.
        adapter: the LoRA adapter folder applied, if any.
    """

    model: Any
    tokenizer: Any
    name: str = ""
    adapter: Path | None = None
    kind: BackendKind = field(default="local", init=False)

    @classmethod
    def load(
        cls, name: str, *, adapter: str | Path | None = None, strict: bool = False, **kw: Any
    ) -> LocalModel:
        """Load ``name`` (plus ``adapter``) through :func:`raresupport.models.load.load_model`."""
        from raresupport.models.load import load_model

        model, tokenizer = load_model(name, adapter=adapter, strict=strict, **kw)
        return cls(model, tokenizer, name, Path(adapter) if adapter else None)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "adapter": str(self.adapter) if self.adapter else None}


@dataclass
class Endpoint:
    """An OpenAI-compatible chat endpoint serving ``model``.

    Attributes:
        model: the model name the server knows.
        base_url: e.g. ``http://127.0.0.1:8000/v1``.
        api_key: None: ``$RARESUPPORT_API_KEY``, then ``$OPENAI_API_KEY``, then a dummy (local
            servers need none). Never written anywhere.
        timeout: seconds per request.
        client: an ``openai.OpenAI`` to use instead of building one (tests).
    """

    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    client: Any = field(default=None, repr=False)
    kind: BackendKind = field(default="endpoint", init=False)

    def _client(self) -> Any:
        if self.client is None:
            if not self.base_url:
                raise ModelError("an endpoint needs a base URL: pass --base-url")
            from openai import OpenAI

            key = self.api_key or os.environ.get("RARESUPPORT_API_KEY")
            key = key or os.environ.get("OPENAI_API_KEY") or "not-needed"
            self.client = OpenAI(base_url=self.base_url, api_key=key, timeout=self.timeout)
        return self.client

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int, item_id: str = "") -> Any:
        """The reply to ``messages`` at temperature 0, as a :class:`raresupport.replies.Reply`
        (final content, reasoning text, finish reason).

        Raises:
            ModelError: the request failed (one line naming the model and the item).
        """
        try:
            reply = self._client().chat.completions.create(
                model=self.model, messages=messages, temperature=0, max_tokens=max_tokens
            )
        except Exception as exc:  # noqa: BLE001 - openai raises many types; report one line
            raise ModelError(
                f"endpoint model {self.model!r} failed on item {item_id!r}: {exc}"
            ) from exc
        from raresupport.replies import reply_of

        return reply_of(reply)

    def describe(self) -> dict[str, Any]:
        return {"name": self.model, "adapter": None, "base_url": self.base_url}
