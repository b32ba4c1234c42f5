"""The retry loop: replies cut at the token limit, and deterministic failures resent once only.

Against the fault-injection server through the real openai client; ``max_tokens`` reaches the
request from ``TeacherConfig`` and from ``raresupport generate --max-tokens``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from raresupport.cli import app
from raresupport.diseases import Disease
from raresupport.generate.teacher import TeacherConfig, plan_items
from raresupport.prompts import template_env
from tests.generate.teacher.conftest import TASKS, make_teacher
from tests.helpers.chat_server import ChatServer


def test_cut_reply_is_named_and_resent_once_only(zebra: Disease, tmp_path: Path) -> None:
    with ChatServer(fault_rate=1.0, kinds=("length",)) as server:
        result = make_teacher(server, tmp_path / "cache").generate(zebra, 3, TASKS, seed=0)
        stats = server.snapshot()
    assert stats["requests"] == 6 and set(stats["by_hash"].values()) == {2}
    assert result.vignettes == [] and result.events["truncated"] == 6
    assert {r.reason for r in result.rejects} == {
        "truncated: reply cut at the token limit (finish_reason=length, max_tokens=2048); raise "
        "max_tokens (--max-tokens) (same failure twice for the identical request; after 2 "
        "attempts)"
    }


def test_the_same_content_failure_twice_ends_the_item(zebra: Disease, tmp_path: Path) -> None:
    for kind, event in (("bad_fact", "invalid_item"), ("truncated_json", "invalid_json")):
        with ChatServer(fault_rate=1.0, kinds=(kind,)) as server:
            result = make_teacher(server, tmp_path / kind).generate(zebra, 2, TASKS, seed=0)
            assert server.snapshot()["requests"] == 4
        assert result.events[event] == 4 and result.events["retries"] == 2
        assert all("same failure twice" in r.reason for r in result.rejects)


def test_max_tokens_reaches_the_request(zebra: Disease, tmp_path: Path) -> None:
    assert TeacherConfig().max_tokens == 2048
    with ChatServer(cut_at_max_tokens=True) as server:
        short = make_teacher(server, tmp_path / "a", max_tokens=20).generate(zebra, 2, TASKS, 0)
        full = make_teacher(server, tmp_path / "b").generate(zebra, 2, TASKS, 0)
    assert short.vignettes == [] and all("max_tokens=20)" in r.reason for r in short.rejects)
    assert len(full.vignettes) == 2 and full.events["truncated"] == 0


def _generate(zebra: Disease, out: Path, server: ChatServer, *extra: str):
    args = ["generate", str(zebra.root), "--n", "3", "--out", str(out), "--teacher", "openai",
            "--model", "m", "--base-url", server.base_url, *extra]  # fmt: skip
    return CliRunner().invoke(app, args)


def test_cli_max_tokens_flag_and_zero_items_is_one_error_line(
    zebra: Disease, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with ChatServer(cut_at_max_tokens=True) as server:
        res = _generate(zebra, out, server, "--max-tokens", "25")
        requests = server.snapshot()["requests"]
    assert res.exit_code == 2, res.output
    assert requests == 6  # one round of 3 items, each resent once: no further rounds
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    error = next(ln for ln in lines if ln.startswith("error:"))
    assert "0 of 3 requested items accepted; most common reject reason (3 of 3): truncated" in error
    assert "max_tokens=25)" in error and "e.g. item zebra-syndrome-" in error
    assert not (out / "manifest.json").exists() and not (out / "train.jsonl").exists()
    rejects = [json.loads(ln) for ln in (out / "rejects.jsonl").read_text().split("\n") if ln]
    assert len(rejects) == 3 and all(r["reason"].startswith("truncated") for r in rejects)
    with ChatServer(cut_at_max_tokens=True) as server:  # a large enough limit: all accepted
        res = _generate(zebra, tmp_path / "ok", server, "--max-tokens", "4000")
    assert res.exit_code == 0 and "warning" not in res.output
    counts = json.loads((tmp_path / "ok" / "manifest.json").read_text())["counts"]
    assert counts["accepted"] == 3


def test_run_with_a_teacher_that_yields_nothing_fails(zebra: Disease, tmp_path: Path) -> None:
    item = {"id": "q1", "task": "diagnosis", "question": "Which?", "answer": "A",
            "options": {"A": "one", "B": "two"}}  # fmt: skip
    (zebra.root / "benchmark.jsonl").write_text(json.dumps(item) + "\n", encoding="utf-8")
    with ChatServer(fault_rate=1.0, kinds=("http_400",)) as server:
        args = ["run", str(zebra.root), "--out", str(tmp_path / "run"), "--n", "4",
                "--teacher", "openai", "--teacher-model", "m", "--base-url", server.base_url]
        res = CliRunner().invoke(app, args)  # fmt: skip
    assert res.exit_code == 2, res.output
    assert "0 of 4 requested items accepted" in res.output
    assert "HTTP 400: This model's maximum context length" in res.output
    assert not (tmp_path / "run" / "data" / "manifest.json").exists()


def test_template_with_bom_is_read_and_a_binary_one_is_one_line(
    zebra: Disease, tmp_path: Path
) -> None:
    import codecs

    from raresupport.errors import TeacherError

    (tmp_path / "system.jinja2").write_bytes(codecs.BOM_UTF8 + b"You write about {{ spec.name }}.")
    plans, _ = plan_items(zebra, template_env(zebra, tmp_path), 1, TASKS, seed=0)
    assert plans[0].messages[0]["content"].startswith("You write about Zebra syndrome.")
    with ChatServer() as server:
        gen = make_teacher(server, tmp_path / "cache", templates_dir=tmp_path)
        assert len(gen.generate(zebra, 1, TASKS, seed=0).vignettes) == 1
        (tmp_path / "system.jinja2").write_bytes(b"\x89PNG\r\n\x1a\n")
        with pytest.raises(TeacherError, match=r"template system.jinja2: not UTF-8 text "
                           r"\(byte 0x89 at byte offset 0\)"):  # fmt: skip
            make_teacher(server, tmp_path / "c2", templates_dir=tmp_path).generate(
                zebra, 1, TASKS, seed=0
            )
