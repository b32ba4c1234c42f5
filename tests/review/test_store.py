"""The SQLite review store: migrations, one transaction per decision, concurrent writers."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from raresupport.review.models import Decision, ReviewItem
from raresupport.review.store import SCHEMA_VERSION, ReviewStore, ReviewStoreError


def _approve(item: ReviewItem, who: str = "a") -> Decision:
    return Decision(item_id=item.id, reviewer_kind="spec", reviewer_id=who, action="approve",
                    answer=item.model_answer)  # fmt: skip


def test_items_and_decisions_round_trip(tmp_path: Path, review_items) -> None:
    store = ReviewStore(tmp_path / "review.sqlite")
    assert store.add_items(review_items) == len(review_items)
    assert store.add_items(review_items) == 0  # idempotent: a resumed round adds nothing
    assert [i.id for i in store.items(round=1)] == [i.id for i in review_items]
    assert store.item(review_items[0].id) == review_items[0]
    store.record(_approve(review_items[0]))
    store.record(Decision(item_id=review_items[1].id, reviewer_kind="web", reviewer_id="ann",
                          action="reject", reason="ambiguous case",
                          rubric={"accuracy": 2, "appropriateness": 3, "empathy": 4}))
    got = store.decisions()
    assert [d.action for d in got] == ["approve", "reject"]
    assert got[1].rubric.empathy == 4 and got[1].reason == "ambiguous case"
    from raresupport.review.reviewers import get_reviewer
    from raresupport.review.reviewers.base import undecided

    oracle = get_reviewer("spec", id="a")
    assert [i.id for i in undecided(oracle, store, review_items)] == [
        i.id for i in review_items[1:]]


def test_latest_decision_wins(tmp_path: Path, review_items) -> None:
    store = ReviewStore(tmp_path / "s.sqlite")
    store.add_items(review_items[:1])
    store.record(_approve(review_items[0]))
    store.record(Decision(item_id=review_items[0].id, reviewer_kind="spec", reviewer_id="a",
                          action="reject", reason="changed my mind"))  # fmt: skip
    assert [d.action for d in store.decisions(latest=True)] == ["reject"]
    assert len(store.decisions()) == 2


def test_bad_decisions_are_refused(tmp_path: Path, review_items) -> None:
    with pytest.raises(ValidationError, match="rationale"):
        Decision(item_id="x", reviewer_kind="k", reviewer_id="i", action="correct", answer="A")
    with pytest.raises(ValidationError, match="reason"):
        Decision(item_id="x", reviewer_kind="k", reviewer_id="i", action="reject")
    store = ReviewStore(tmp_path / "s.sqlite")
    with pytest.raises(ReviewStoreError, match="no review item"):
        store.record(_approve(review_items[0]))
    assert store.count() == 0


def test_wal_and_migration_from_v1(tmp_path: Path, review_items) -> None:
    """A v1 file (no rubric columns) is migrated in place, its rows kept."""
    from raresupport.review import store as store_mod

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(store_mod.MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    conn.execute("INSERT INTO items (id, round, task, data) VALUES (?, ?, ?, ?)",
                 (review_items[0].id, 1, "diagnosis", review_items[0].model_dump_json()))
    conn.execute("INSERT INTO decisions (item_id, reviewer_kind, reviewer_id, action, answer, "
                 "created_at) VALUES (?, 'spec', 'a', 'approve', 'A', '2026-01-01T00:00:00')",
                 (review_items[0].id,))  # fmt: skip
    conn.commit()
    conn.close()
    store = ReviewStore(path)
    assert store.schema_version == SCHEMA_VERSION == 2
    [old] = store.decisions()
    assert old.answer == "A" and old.rubric.accuracy is None
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_and_garbage_are_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    with sqlite3.connect(newer) as c:
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ReviewStoreError, match="newer"):
        ReviewStore(newer)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(ReviewStoreError, match="not a review store"):
        ReviewStore(junk)


WRITER = textwrap.dedent("""
    import sys
    from raresupport.review.models import Decision
    from raresupport.review.store import ReviewStore
    store = ReviewStore(sys.argv[1])
    who = sys.argv[2]
    items = [i.id for i in store.items()]
    sys.stdout.write("ready\\n"); sys.stdout.flush()
    sys.stdin.readline()  # both writers start together
    for n in range(200):
        store.record(Decision(item_id=items[n % len(items)], reviewer_kind="llm",
                              reviewer_id=who, action="reject", reason=f"{who} {n}"))
""")


def test_two_writer_processes_lose_nothing(tmp_path: Path, review_items) -> None:
    path = tmp_path / "shared.sqlite"
    ReviewStore(path).add_items(review_items)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), who], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for who in ("w1", "w2")
    ]  # fmt: skip
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err.lower(), err
    store = ReviewStore(path)
    assert store.count() == 400
    reasons = {d.reason for d in store.decisions()}
    assert reasons == {f"{w} {n}" for w in ("w1", "w2") for n in range(200)}
