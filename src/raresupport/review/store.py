"""The review store: review items and decisions in one SQLite file.

Why it looks the way it does:

* WAL journal: readers (the web page, ``review agreement``) never block the writer, and
  ``synchronous=FULL`` makes each committed decision durable, so a crash loses at most the
  decision being written.
* One short ``BEGIN IMMEDIATE`` transaction per decision. Several reviewers (processes, or the
  web server's threads) may write at once: SQLite waits ``busy_timeout`` for the write lock, and
  on top of that the store retries a busy/locked error with back-off, so "database is locked"
  never reaches the user unless the lock is held for minutes (then one clear
  :class:`ReviewStoreError`).
* The schema is versioned with ``PRAGMA user_version``; :data:`MIGRATIONS` are applied in order
  inside one transaction, and a store written by a newer version is refused.
* A connection per operation: safe from any thread or process, no shared handle to leak.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from raresupport.errors import RareSupportError
from raresupport.review.models import Decision, ReviewItem

T = TypeVar("T")

#: schema version -> SQL bringing the previous version up to it (applied in order, never edited)
MIGRATIONS: tuple[str, ...] = (
    # v1: items and decisions
    """
    CREATE TABLE items (
        id TEXT PRIMARY KEY,
        round INTEGER NOT NULL,
        task TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        item_id TEXT NOT NULL REFERENCES items(id),
        reviewer_kind TEXT NOT NULL,
        reviewer_id TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('approve', 'correct', 'reject')),
        answer TEXT,
        rationale TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE INDEX decisions_by_item ON decisions(item_id);
    """,
    # v2: rubric scores (1-5) and a reviewer index
    """
    ALTER TABLE decisions ADD COLUMN score_accuracy INTEGER
        CHECK (score_accuracy BETWEEN 1 AND 5);
    ALTER TABLE decisions ADD COLUMN score_appropriateness INTEGER
        CHECK (score_appropriateness BETWEEN 1 AND 5);
    ALTER TABLE decisions ADD COLUMN score_empathy INTEGER
        CHECK (score_empathy BETWEEN 1 AND 5);
    CREATE INDEX decisions_by_reviewer ON decisions(reviewer_kind, reviewer_id);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

#: seconds SQLite itself waits for a lock, then the store's own retries (total budget below)
BUSY_TIMEOUT_S = 10.0
RETRY_BUDGET_S = 120.0


class ReviewStoreError(RareSupportError):
    """The store file is unusable (newer schema, not a database) or stayed locked too long."""


def _transient(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class ReviewStore:
    """Review items and decisions in the SQLite file ``path`` (created and migrated on open).

    Raises:
        ReviewStoreError: the file is not a SQLite database or has a newer schema version.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._retry(self._migrate)

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        finally:
            conn.close()

    def _retry(self, fn: Callable[[], T]) -> T:
        """Run ``fn``; on a busy/locked error wait (full jitter, growing) and run it again."""
        deadline = time.monotonic() + RETRY_BUDGET_S
        attempt = 0
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _transient(exc) or time.monotonic() > deadline:
                    raise ReviewStoreError(f"{self.path}: review store error: {exc}") from None
                attempt += 1
                time.sleep(random.uniform(0, min(1.0, 0.01 * 2**attempt)))
            except sqlite3.DatabaseError as exc:
                raise ReviewStoreError(f"{self.path}: not a review store ({exc})") from None

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """One IMMEDIATE transaction (the write lock is taken up front, so no upgrade deadlock)."""

        def attempt() -> T:
            with self._connect() as conn:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                return result

        return self._retry(attempt)

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        def attempt() -> list[sqlite3.Row]:
            with self._connect() as conn:
                return conn.execute(sql, params).fetchall()

        return self._retry(attempt)

    def _migrate(self) -> None:
        with self._connect() as conn:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")  # persistent: set once per file
            if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise ReviewStoreError(
                        f"{self.path}: review store schema v{version} is newer than this "
                        f"raresupport understands (v{SCHEMA_VERSION}); upgrade raresupport"
                    )
                for number in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[number - 1].split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {number}")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return self._read("PRAGMA user_version")[0][0]

    # ------------------------------------------------------------------ items

    def add_items(self, items: Sequence[ReviewItem]) -> int:
        """Insert items (an id already present is left as it is); returns how many were new."""
        rows = [(i.id, i.round, i.vignette.task, i.model_dump_json()) for i in items]

        def insert(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO items (id, round, task, data) VALUES (?, ?, ?, ?)", rows
            )
            return conn.total_changes - before

        return self._write(insert)

    def items(self, round: int | None = None) -> list[ReviewItem]:  # noqa: A002 - domain word
        """Items in insertion order, optionally of one round."""
        where, params = ("WHERE round = ?", (round,)) if round is not None else ("", ())
        rows = self._read(f"SELECT data FROM items {where} ORDER BY rowid", params)
        return [ReviewItem.model_validate_json(r["data"]) for r in rows]

    def item(self, item_id: str) -> ReviewItem | None:
        rows = self._read("SELECT data FROM items WHERE id = ?", (item_id,))
        return ReviewItem.model_validate_json(rows[0]["data"]) if rows else None

    # ------------------------------------------------------------------ decisions

    def record(self, decision: Decision) -> int:
        """Write one decision in its own transaction; returns its row id.

        Raises:
            ReviewStoreError: the item is not in the store.
        """
        row = decision.row()
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)

        def insert(conn: sqlite3.Connection) -> int:
            known = conn.execute("SELECT 1 FROM items WHERE id = ?", (decision.item_id,))
            if known.fetchone() is None:
                raise ReviewStoreError(f"{self.path}: no review item {decision.item_id!r}")
            sql = f"INSERT INTO decisions ({cols}) VALUES ({marks})"
            cur = conn.execute(sql, list(row.values()))
            return int(cur.lastrowid)

        return self._write(insert)

    def decisions(
        self,
        *,
        reviewer_kind: str | None = None,
        reviewer_id: str | None = None,
        round: int | None = None,  # noqa: A002
        latest: bool = False,
    ) -> list[Decision]:
        """Decisions in the order written; ``latest``: only each reviewer's last word per item."""
        where, params = [], []
        for col, value in (("d.reviewer_kind", reviewer_kind), ("d.reviewer_id", reviewer_id),
                           ("i.round", round)):  # fmt: skip
            if value is not None:
                where.append(f"{col} = ?")
                params.append(value)
        if latest:
            where.append(
                "d.id = (SELECT MAX(e.id) FROM decisions e WHERE e.item_id = d.item_id "
                "AND e.reviewer_kind = d.reviewer_kind AND e.reviewer_id = d.reviewer_id)"
            )
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._read(
            f"SELECT d.* FROM decisions d JOIN items i ON i.id = d.item_id {clause} ORDER BY d.id",
            params,
        )
        return [Decision.from_row(r) for r in rows]

    def count(self, table: str = "decisions") -> int:
        if table not in ("decisions", "items"):
            raise ValueError(f"unknown table {table!r}")
        return self._read(f"SELECT COUNT(*) FROM {table}")[0][0]

    def export(self) -> dict[str, Any]:
        """Everything, JSON-ready (for audits and the report)."""
        return {
            "schema_version": self.schema_version,
            "items": [json.loads(i.model_dump_json()) for i in self.items()],
            "decisions": [d.model_dump(mode="json") for d in self.decisions()],
        }
