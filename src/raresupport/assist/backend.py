"""Model backends for the assistant: anything with ``complete(messages, max_tokens) -> str``.

The assistant never depends on what the model says for its safety parts (red flags, quotes,
citation checks), so a backend is swappable: a local HF model (optionally with the run's LoRA
adapter), or in tests a double whose output the test controls.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol, runtime_checkable

from raresupport.registry import Registry


@runtime_checkable
class ChatBackend(Protocol):
    """``complete(messages, max_tokens, base=)``: the assistant turn for OpenAI-style
    ``messages``; ``base=True`` asks for the base model's answer (adapter off), for questions the
    retriever finds off-topic; a backend without an adapter ignores it."""

    def complete(
        self, messages: list[dict[str, str]], max_tokens: int = 256, *, base: bool = False
    ) -> str: ...


#: backend name -> factory ``(**options) -> ChatBackend``; built-in: ``hf``
backends: Registry[Any] = Registry("assist_backends")


class HFBackend:
    """Greedy decoding with a local causal LM (any id or folder, plus an optional adapter).

    Args:
        model, tokenizer: as returned by :func:`raresupport.models.load.load_model`.
        repetition_penalty: small models loop without one; 1.1 is the transformers docs' example
            value, not tuned here.
    """

    def __init__(self, model: Any, tokenizer: Any, repetition_penalty: float = 1.1) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.repetition_penalty = repetition_penalty
        self._lock = threading.Lock()  # one generate at a time: the server may be threaded

    @classmethod
    def load(cls, model: str, adapter: str | None = None, device: str | None = None, **kw: Any):
        from raresupport.models.load import load_model

        m, tok = load_model(model, adapter=adapter, device=device)
        return cls(m, tok, **kw)

    def complete(
        self, messages: list[dict[str, str]], max_tokens: int = 256, *, base: bool = False
    ) -> str:
        from contextlib import nullcontext

        import torch

        from raresupport.chat import render_prompt
        from raresupport.evaluate.base import model_device
        from raresupport.models.adapter import adapter_off
        from raresupport.tokens import encode_text

        prompt = render_prompt(self.tokenizer, messages)
        ids = torch.tensor([encode_text(self.tokenizer, prompt)], device=model_device(self.model))
        adapter = adapter_off(self.model) if base else nullcontext()
        with self._lock, adapter, torch.inference_mode():
            out = self.model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens,
                do_sample=False, repetition_penalty=self.repetition_penalty,
                pad_token_id=self.tokenizer.pad_token_id,
            )  # fmt: skip
        return self.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()


backends.add("hf", HFBackend.load)
