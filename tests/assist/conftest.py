"""A model double whose output each test controls, and an assistant over the reference spec."""

from __future__ import annotations

import pytest


class ScriptedBackend:
    """Returns ``reply`` whatever it is asked; records every request."""

    def __init__(
        self, reply: str = "Aluminium chloride is first-line [tx.alcl.first-line]."
    ) -> None:
        self.reply = reply
        self.requests: list[list[dict[str, str]]] = []
        self.bases: list[bool] = []  # per request: was the base model (adapter off) asked?

    def complete(self, messages, max_tokens: int = 256, *, base: bool = False) -> str:
        self.requests.append(messages)
        self.bases.append(base)
        return self.reply


@pytest.fixture
def scripted() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
def assistant(hyperhidrosis, scripted):
    from raresupport.assist import Assistant

    return Assistant(hyperhidrosis.spec, scripted)
