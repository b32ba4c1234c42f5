"""The on-disk reply cache: teacher calls cost money, so no finished request is sent twice.

One JSON file per validated reply, named by the sha256 of the request content and written
atomically, so a re-run or a resume after a crash or SIGKILL repeats no finished request.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


class ReplyCache:
    """One JSON file per validated reply, named by the sha256 of the request content."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(request: dict[str, Any]) -> str:
        """sha256 of the canonical JSON of model, messages, temperature, max_tokens, format."""
        canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached record, or None when absent or unreadable (then the request is sent)."""
        try:
            return json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Write atomically: a reader (or a resumed run) sees the whole file or none."""
        tmp = self.root / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path(key))
