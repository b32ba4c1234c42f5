"""The OpenAI-compatible teacher against a real HTTP server on 127.0.0.1 (no client patching).

Covers: prompt planning and template overrides; faults (429, 500, truncated JSON, bad key,
unknown fact, slow reply) retried and every one of them counted; the API key never written;
the reply cache, and resume after SIGKILL repeating no finished request.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jinja2
import pytest
from jinja2.sandbox import SecurityError

import raresupport.diseases
from raresupport.diseases import Disease, load_disease
from raresupport.errors import TeacherError
from raresupport.generate.teacher import (
    FOCUS_TOPICS,
    LETTERS,
    TeacherGenerator,
    parse_reply,
    plan_items,
)
from raresupport.prompts import render, template_env
from tests.helpers.chat_server import FAULT_EVENTS, FAULT_KINDS, ChatServer, request_hash
from tests.helpers.specs import write_disease

TASKS = ["diagnosis", "treatment", "counseling"]
HH_TEMPLATES = Path(raresupport.diseases.__file__).parent / "hyperhidrosis" / "templates"


@pytest.fixture
def zebra(tmp_path: Path) -> Disease:
    return load_disease(write_disease(tmp_path / "zebra"))


def teacher(server: ChatServer, cache_dir: Path, **overrides: object) -> TeacherGenerator:
    """A teacher with test-speed timeouts and back-off."""
    fields: dict[str, object] = {
        "model": "test-model", "base_url": server.base_url, "concurrency": 8, "timeout_s": 0.75,
        "max_retries": 6, "backoff_base_s": 0.01, "backoff_max_s": 0.05, "cache_dir": cache_dir,
    }
    return TeacherGenerator(**(fields | overrides))


# --------------------------------------------------------------------------- prompts


def test_plans_are_deterministic_and_rotate_task_and_key(zebra: Disease) -> None:
    env = template_env(zebra)
    plans, hashes = plan_items(zebra, env, 12, TASKS, seed=7)
    again, _ = plan_items(zebra, env, 12, TASKS, seed=7)
    other, _ = plan_items(zebra, env, 12, TASKS, seed=8)
    assert [p.messages for p in plans] == [p.messages for p in again]
    assert [p.messages for p in plans] != [p.messages for p in other]
    assert [p.task for p in plans] == TASKS * 4
    assert plans[4].id == "zebra-syndrome-tr-7-00004"
    assert set(hashes) == {"system.jinja2", "vignette.jinja2"}
    for i, plan in enumerate(plans):
        user = plan.messages[1]["content"]
        assert f'under "{LETTERS[i % 4]}"' in user
        cited = [line for line in user.splitlines() if line.startswith("- [")]
        assert 2 <= len(cited) <= 6 and all(line.split("]")[0][3:] in zebra.spec.fact_ids
                                            for line in cited)
        assert "Zebra syndrome" in plan.messages[0]["content"]
    assert len({p.messages[1]["content"].split("Patient:")[1][:40] for p in plans}) > 3


def test_template_lookup_order_sandbox_and_strictness(zebra: Disease, tmp_path: Path) -> None:
    default_text, default_hash = render(template_env(None), "system.jinja2", spec=zebra.spec)
    zebra.templates_dir.mkdir()
    (zebra.templates_dir / "system.jinja2").write_text("DISEASE {{ spec.name }}")
    user_dir = tmp_path / "mine"
    user_dir.mkdir()
    (user_dir / "system.jinja2").write_text(
        '{% extends "default/system.jinja2" %}USER {{ spec.id }}'
    )
    text, h = render(template_env(zebra), "system.jinja2", spec=zebra.spec)
    assert text == "DISEASE Zebra syndrome\n" and h != default_hash
    text, h2 = render(template_env(zebra, user_dir), "system.jinja2", spec=zebra.spec)
    assert text == default_text and h2 not in (h, default_hash)  # extends: base's body wins
    (user_dir / "x.jinja2").write_text("{{ spec.__class__.__mro__ }}")
    with pytest.raises(SecurityError):
        render(template_env(zebra, user_dir), "x.jinja2", spec=zebra.spec)
    with pytest.raises(jinja2.UndefinedError):
        render(template_env(zebra), "vignette.jinja2", spec=zebra.spec)  # context incomplete


def test_template_error_is_one_line_naming_the_template(zebra: Disease, tmp_path: Path) -> None:
    (tmp_path / "vignette.jinja2").write_text("Write about {{ spec.name }}.\n{{ no_such_var }}")
    with ChatServer() as server:
        gen = teacher(server, tmp_path / "cache", templates_dir=tmp_path)
        with pytest.raises(TeacherError, match=r"template vignette.jinja2: 'no_such_var'"):
            gen.generate(zebra, 2, TASKS, seed=0)
        assert server.snapshot()["requests"] == 0  # fails before any paid request


def test_hyperhidrosis_override_extends_the_default(zebra: Disease) -> None:
    shutil.copytree(HH_TEMPLATES, zebra.templates_dir)
    plans, hashes = plan_items(zebra, template_env(zebra), 3, TASKS, seed=0)
    default_plans, default_hashes = plan_items(zebra, template_env(None), 3, TASKS, seed=0)
    assert hashes["vignette.jinja2"] != default_hashes["vignette.jinja2"]
    for plan, base in zip(plans, default_plans, strict=True):
        user, base_user = plan.messages[1]["content"], base.messages[1]["content"]
        assert len(user) > len(base_user) and "- [" in user and '"fact_ids"' in user
    assert "Zebra Severity Scale" in plans[0].messages[1]["content"]
    assert "forearms, shins" in plans[1].messages[1]["content"]


def test_hyperhidrosis_prompts_use_its_override_and_task_facts(
    hyperhidrosis: Disease, tmp_path: Path
) -> None:
    plans, hashes = plan_items(hyperhidrosis, template_env(hyperhidrosis), 30, TASKS, seed=0)
    _, default_hashes = plan_items(hyperhidrosis, template_env(None), 1, TASKS, seed=0)
    assert hashes["vignette.jinja2"] != default_hashes["vignette.jinja2"]
    for plan in plans:
        user = plan.messages[1]["content"]
        focus = user.split("turn on fact [")[1].split("]")[0]
        assert hyperhidrosis.spec.fact(focus).topic in FOCUS_TOPICS[plan.task]
        assert "Hyperhidrosis Disease Severity Scale" in user or plan.task != "diagnosis"
    foci = {p.messages[1]["content"].split("turn on fact [")[1] for p in plans}
    assert len(foci) == 30  # successive items of a task cycle through different facts
    with ChatServer() as server:
        result = teacher(server, tmp_path / "cache").generate(hyperhidrosis, 6, TASKS, seed=0)
    assert len(result.vignettes) == 6
    assert {v.provenance.template_hash for v in result.vignettes} != {None}


def test_parse_reply_repairs_fences_and_prose() -> None:
    obj = {"a": 1}
    assert parse_reply(json.dumps(obj)) == obj
    assert parse_reply(f"Sure!\n```json\n{json.dumps(obj)}\n```\nBye") == obj
    for bad in ("", "no json here", '{"case": "trunc', "[1, 2]"):
        with pytest.raises(ValueError):
            parse_reply(bad)


# --------------------------------------------------------------------------- faults


def test_thirty_percent_faults_all_retried_and_accounted(zebra: Disease, tmp_path: Path) -> None:
    server = ChatServer(
        fault_rate=0.3, kinds=FAULT_KINDS, seed=11, slow_s=1.5, retry_after_s=0.01,
        # once per request: a reply that fails the same way twice is (rightly) not resent again
        max_faults_per_request=1,
    )
    with server:
        result = teacher(server, tmp_path / "cache").generate(zebra, 20, TASKS, seed=1)
        stats = server.snapshot()
    assert len(result.vignettes) == 20 and result.rejects == []
    assert len({v.id for v in result.vignettes}) == 20
    assert stats["injected"] >= 4 and set(stats["faults"]) >= {"http_429", "http_500"}
    expected = dict.fromkeys(FAULT_EVENTS.values(), 0)
    for kind, count in stats["faults"].items():
        expected[FAULT_EVENTS[kind]] += count
    assert {k: result.events[k] for k in expected} == expected
    assert result.events["retries"] == stats["injected"]
    assert result.events["requests"] == stats["requests"] == 20 + stats["injected"]
    assert result.usage["prompt_tokens"] > 0 and result.usage["completion_tokens"] > 0
    assert len(list((tmp_path / "cache").glob("*.json"))) == 20  # only good replies cached


def test_item_becomes_reject_after_max_retries(zebra: Disease, tmp_path: Path) -> None:
    with ChatServer(fault_rate=1.0, kinds=("http_500",)) as server:
        result = teacher(server, tmp_path / "cache", max_retries=2).generate(
            zebra, 4, TASKS, seed=0
        )
        assert server.snapshot()["requests"] == 4 * 3
    assert result.vignettes == [] and len(result.rejects) == 4
    assert all(r.stage == "generate" and "http_5xx" in r.reason for r in result.rejects)
    assert result.events["rejects"] == 4 and result.events["retries"] == 4 * 2
    assert not list((tmp_path / "cache").glob("*.json"))


def test_retry_after_is_honoured(zebra: Disease, tmp_path: Path) -> None:
    server = ChatServer(
        fault_rate=1.0, kinds=("http_429",), retry_after_s=0.4, max_faults_per_request=1
    )
    with server:
        start = time.perf_counter()
        result = teacher(server, tmp_path / "c", backoff_max_s=5).generate(zebra, 1, TASKS, 0)
        elapsed = time.perf_counter() - start
    assert len(result.vignettes) == 1 and result.events["http_429"] == 1
    assert elapsed >= 0.4


def test_falls_back_when_server_rejects_response_format(zebra: Disease, tmp_path: Path) -> None:
    with ChatServer(supports_response_format=False) as server:
        result = teacher(server, tmp_path / "cache").generate(zebra, 9, TASKS, seed=0)
        rejected = server.snapshot()["format_rejections"]
    assert len(result.vignettes) == 9 and result.events["response_format_fallbacks"] == 1
    assert 1 <= rejected <= 8  # at most one in-flight wave, then plain JSON with repair
    with ChatServer() as server:
        result = teacher(server, tmp_path / "c2", json_schema=False).generate(zebra, 3, TASKS, 0)
    assert len(result.vignettes) == 3 and result.events["response_format_fallbacks"] == 0


def test_rerun_is_served_from_cache(zebra: Disease, tmp_path: Path) -> None:
    with ChatServer() as server:
        gen = teacher(server, tmp_path / "cache")
        first = gen.generate(zebra, 6, TASKS, seed=3)
        second = gen.generate(zebra, 6, TASKS, seed=3)
        assert server.snapshot()["requests"] == 6
    assert second.events["requests"] == 0 and second.events["cache_hits"] == 6
    dump = [v.model_dump(exclude={"provenance"}) for v in first.vignettes]
    assert dump == [v.model_dump(exclude={"provenance"}) for v in second.vignettes]


# --------------------------------------------------------------------------- secrets


def _files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_api_key_is_sent_but_never_written(
    zebra: Disease,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from raresupport.generate.dataset import generate_dataset

    key = "sk-" + secrets.token_hex(16)
    monkeypatch.setenv("RARESUPPORT_TEST_KEY", key)
    out = tmp_path / "out"
    server = ChatServer(fault_rate=0.5, kinds=("http_500", "bad_key"), expected_api_key=key)
    with server, caplog.at_level("DEBUG"):
        gen = teacher(
            server, out / ".cache" / "teacher", api_key_env="RARESUPPORT_TEST_KEY", max_retries=1
        )
        generate_dataset(zebra, gen, 9, out, seed=0)
        stats = server.snapshot()
    assert stats["auth_ok"] == stats["requests"] > 0 and stats["auth_bad"] == 0
    assert (out / "manifest.json").exists() and list((out / ".cache" / "teacher").glob("*.json"))
    assert _files_containing(out, key) == []
    assert key not in caplog.text and key not in repr(gen) and key not in repr(gen.config)


def test_refused_key_stops_the_run_without_echoing_it(
    zebra: Disease, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "sk-" + secrets.token_hex(16)
    monkeypatch.setenv("OPENAI_API_KEY", wrong)
    with ChatServer(expected_api_key="sk-right", require_api_key=True) as server:
        with pytest.raises(TeacherError, match="HTTP 401") as err:
            teacher(server, tmp_path / "cache").generate(zebra, 6, TASKS, seed=0)
    assert wrong not in str(err.value)


def test_generate_works_inside_a_running_event_loop(zebra: Disease, tmp_path: Path) -> None:
    async def notebook_cell() -> int:
        return len(teacher(server, tmp_path / "cache").generate(zebra, 3, TASKS, 0).vignettes)

    with ChatServer() as server:
        assert asyncio.run(notebook_cell()) == 3


# --------------------------------------------------------------------------- kill / resume


def _cli(disease_dir: Path, out: Path, base_url: str) -> list[str]:
    return [
        sys.executable, "-m", "raresupport", "generate", str(disease_dir), "--n", "16",
        "--out", str(out), "--teacher", "openai", "--model", "test-model",
        "--base-url", base_url, "--concurrency", "2", "--seed", "5",
    ]


def _wait_for_files(folder: Path, count: int, proc: subprocess.Popen, limit: float) -> None:
    deadline = time.monotonic() + limit
    while len(list(folder.glob("*.json"))) < count:
        assert proc.poll() is None, "generation finished before it could be killed"
        assert time.monotonic() < deadline, "no cache files appeared"
        time.sleep(0.02)


def test_sigkill_then_resume_repeats_no_finished_request(zebra: Disease, tmp_path: Path) -> None:
    key = "sk-" + secrets.token_hex(16)
    env = dict(os.environ, OPENAI_API_KEY=key)
    out = tmp_path / "out"
    cache = out / ".cache" / "openai"  # the generator's name
    with ChatServer(latency=0.25, expected_api_key=key) as server:
        cmd = _cli(zebra.root, out, server.base_url)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        _wait_for_files(cache, 4, proc, limit=20)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before = server.snapshot()["by_hash"]
        done = {request_hash(json.loads(p.read_text())["request"]) for p in cache.glob("*.json")}
        assert 4 <= len(done) < 16 and not (out / "manifest.json").exists()
        finished = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert finished.returncode == 0, finished.stdout + finished.stderr
        after = server.snapshot()["by_hash"]
    assert all(before[h] == after[h] == 1 for h in done), "a cached request was sent again"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["events"]["cache_hits"] >= len(done)
    items = [json.loads(line) for name in ("train.jsonl", "val.jsonl")
             for line in (out / name).read_text().splitlines() if line.strip()]
    assert len(items) == 16
    assert len({i["id"] for i in items}) == 16 and len({i["case"] for i in items}) == 16
    assert _files_containing(out, key) == []
