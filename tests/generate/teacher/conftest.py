"""Fixtures shared by the teacher tests: a small disease and a test-speed teacher."""

from __future__ import annotations

from pathlib import Path

import pytest

from raresupport.diseases import Disease, load_disease
from raresupport.generate.teacher import TeacherGenerator
from tests.helpers.chat_server import ChatServer
from tests.helpers.specs import write_disease

TASKS = ["diagnosis", "treatment", "counseling"]


@pytest.fixture
def zebra(tmp_path: Path) -> Disease:
    return load_disease(write_disease(tmp_path / "zebra"))


def make_teacher(server: ChatServer, cache_dir: Path, **overrides: object) -> TeacherGenerator:
    """A teacher with test-speed timeouts and back-off."""
    fields: dict[str, object] = {
        "model": "test-model", "base_url": server.base_url, "concurrency": 4, "timeout_s": 5,
        "max_retries": 6, "backoff_base_s": 0.01, "backoff_max_s": 0.05, "cache_dir": cache_dir,
    }
    return TeacherGenerator(**(fields | overrides))
