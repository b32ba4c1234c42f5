"""Dataset output when the teacher fails: zero items is an error, fewer items is reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raresupport.diseases import Disease, load_disease
from raresupport.errors import GenerationError
from raresupport.generate.dataset import generate_dataset, shortfall
from raresupport.generate.teacher import TeacherGenerator
from tests.helpers.chat_server import ChatServer
from tests.helpers.specs import write_disease


@pytest.fixture
def zebra(tmp_path: Path) -> Disease:
    return load_disease(write_disease(tmp_path / "zebra"))


def _teacher(server: ChatServer, cache: Path) -> TeacherGenerator:
    return TeacherGenerator(model="m", base_url=server.base_url, cache_dir=cache,
                            backoff_base_s=0.01, backoff_max_s=0.02, max_retries=1)  # fmt: skip


def test_fewer_items_than_requested_is_reported(zebra: Disease, tmp_path: Path) -> None:
    refusal = {"content": "I cannot write that case."}
    with ChatServer(script={"Task: counseling": refusal}) as server:
        m = generate_dataset(zebra, _teacher(server, tmp_path / "c"), 3, tmp_path / "out",
                             max_rounds=1)  # fmt: skip
    assert m.counts["accepted"] == 2 and m.n_requested == 3
    assert shortfall(m) == (
        "only 2 of 3 requested items accepted; most common reject reason: "
        "invalid_json: no JSON object in reply"
    )


def test_zero_items_is_an_error_naming_the_commonest_reason(zebra: Disease, tmp_path: Path):
    out = tmp_path / "out"
    with ChatServer(fault_rate=1.0, kinds=("http_500",), error_message="GPU fell off") as server:
        with pytest.raises(GenerationError) as err:
            generate_dataset(zebra, _teacher(server, tmp_path / "c"), 3, out)
        assert server.snapshot()["requests"] == 3 * 2  # one round (no further rounds)
    assert str(err.value) == (
        f"{out}: 0 of 3 requested items accepted; most common reject reason (3 of 3): http_5xx; "
        f"e.g. item zebra-syndrome-di-0-00000: http_5xx: HTTP 500: GPU fell off (after 2 "
        f"attempts) (all in {out / 'rejects.jsonl'})"
    )
    assert len((out / "rejects.jsonl").read_text(encoding="utf-8").split("\n")) == 4
    assert not (out / "manifest.json").exists()
    assert json.loads((out / "rejects.jsonl").read_text().split("\n")[0])["stage"] == "generate"
