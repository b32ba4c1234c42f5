"""Shared fixtures: a tiny locally built Llama (no downloads) and the reference disease."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models run far faster on one thread than on two contended cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _own_score_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own score cache: no test reads what another one scored."""
    monkeypatch.setenv("RARESUPPORT_SCORES_DIR", str(tmp_path / "score-cache"))
    monkeypatch.delenv("RARESUPPORT_SCORE_CACHE", raising=False)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised tiny Llama with a locally trained tokenizer and chat template."""
    from raresupport.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def hyperhidrosis():
    from raresupport import load_disease

    return load_disease("hyperhidrosis")
