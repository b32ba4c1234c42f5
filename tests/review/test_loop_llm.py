"""End to end: ``raresupport loop`` with the ``llm`` reviewer played by a local chat server.

Two rounds on the tiny model; the loop is SIGKILLed while round 2's first review request is in
flight, then re-run: it must finish without repeating round 1, and dataset v2 must hold exactly
v1 plus the items the expert approved or corrected, with their provenance.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from raresupport.data.vignette import load_vignettes
from raresupport.review.store import ReviewStore
from tests.helpers.chat_server import ChatServer

N_ITEMS = 4
ACTIONS = ("approve", "correct", "reject", "approve")


def verdict(item_id: str) -> dict:
    """What the scripted expert says about ``item_id`` (r{round}-{index})."""
    action = ACTIONS[int(item_id.split("-")[1]) % len(ACTIONS)]
    return {
        "action": action,
        "answer": "D" if action == "correct" else None,
        "rationale": f"D is right for {item_id} [hh.def]" if action == "correct" else "",
        "reason": f"{item_id} has two defensible options" if action == "reject" else "",
        "accuracy": 4, "appropriateness": 5, "empathy": 3,
    }  # fmt: skip


def _script() -> dict[str, dict]:
    ids = [f"r{r}-{i:03d}" for r in (1, 2) for i in range(N_ITEMS)]
    return {f"Item: {i} (": {"content": json.dumps(verdict(i))} for i in ids}


def _loop(out: Path, cfg: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "raresupport", "loop", "hyperhidrosis", "--out", str(out),
         "--config", str(cfg), "--rounds", "2", "--reviewer", "llm"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip


def test_llm_loop_killed_in_round_2_resumes(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "loop"
    with ChatServer(script=_script(), latency=1.0) as server:
        cfg = tmp_path / "loop.yaml"
        cfg.write_text(yaml.safe_dump({
            "run": {"model": str(tiny_model_dir), "generate": {"n": 24},
                    "train": {"max_steps": 2, "batch_size": 4, "max_length": 256},
                    "evaluate": {"batch_size": 16, "methods": ["loglik"]}},
            "review": {"n_items": N_ITEMS, "explanation_tokens": 4, "options": {
                "model": "expert-proxy", "base_url": server.base_url, "max_retries": 2,
                "cache_dir": str(tmp_path / "llm-cache"), "api_key_env": "RS_TEST_NO_KEY"}},
        }))  # fmt: skip

        first = _loop(out, cfg)
        deadline = time.monotonic() + 900
        # round 1 sends exactly N_ITEMS requests; one more means round 2's review has begun,
        # and its reply is held back by the server's latency while we kill the loop
        while server.snapshot()["requests"] <= N_ITEMS:
            assert first.poll() is None, first.communicate()[0]
            assert time.monotonic() < deadline, "round 2 never started"
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert first.returncode == -signal.SIGKILL

        round1 = [out / "rounds/1/review.json", out / "data/v2/manifest.json",
                  out / "rounds/1/adapter/train_summary.json", out / "rounds/1/eval/metrics.json",
                  out / "rounds/0/adapter/train_summary.json"]  # fmt: skip
        before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in round1}
        assert not (out / "rounds/2/review.json").exists()
        requests_before = server.snapshot()["requests"]
        server.config.latency = 0.0

        second = _loop(out, cfg)
        log, _ = second.communicate(timeout=900)
        assert second.returncode == 0, log
        # round 2's items only: the killed request again, then the rest; nothing of round 1
        assert server.snapshot()["requests"] - requests_before == N_ITEMS
    for step in ("generate v1", "round 0 train", "round 1 answer", "round 1 review",
                 "round 1 dataset v2", "round 1 train", "round 1 evaluate"):  # fmt: skip
        assert f"[skip] {step}" in log, step
    assert "[run ] round 2 review" in log
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in round1} == before

    store = ReviewStore(out / "review.sqlite")
    items = {i.id: i for i in store.items(round=1)}
    assert sorted(items) == [f"r1-{i:03d}" for i in range(N_ITEMS)]
    decisions = {d.item_id: d for d in store.decisions(round=1)}
    assert len(store.decisions()) == 2 * N_ITEMS  # one per item and round, none repeated
    for item_id, d in decisions.items():
        want = verdict(item_id)
        assert (d.reviewer_kind, d.reviewer_id, d.action) == ("llm", "expert-proxy", want["action"])
        assert (d.rubric.accuracy, d.rubric.appropriateness, d.rubric.empathy) == (4, 5, 3)

    v1 = load_vignettes(out / "data/v1/train.jsonl")
    v2 = load_vignettes(out / "data/v2/train.jsonl")
    assert v2[: len(v1)] == v1
    added = {v.id: v for v in v2[len(v1) :]}
    kept = {i for i, d in decisions.items() if d.action in ("approve", "correct")}
    assert set(added) == kept and kept == {"r1-000", "r1-001", "r1-003"}
    assert added["r1-001"].answer == "D" and added["r1-001"].status == "corrected"
    assert added["r1-001"].rationale == "D is right for r1-001 [hh.def]"
    for i in ("r1-000", "r1-003"):
        assert added[i].answer == items[i].model_answer and added[i].status == "approved"
    for v in added.values():
        assert (v.provenance.verification, v.provenance.reviewer_kind,
                v.provenance.reviewer_id) == ("expert_verified", "llm", "expert-proxy")  # fmt: skip
    manifest = json.loads((out / "data/v2/manifest.json").read_text())
    assert [r["id"] for r in manifest["rejected"]] == ["r1-002"]
    assert manifest["rejected"][0]["reason"] == "r1-002 has two defensible options"

    rows = json.loads((out / "rounds.json").read_text())
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert [(r["approve"], r["correct"], r["reject"]) for r in rows[1:]] == [(2, 1, 1)] * 2
    for r in rows:
        assert 0.0 <= r["accuracy"]["benchmark"]["overall"] <= 1.0
