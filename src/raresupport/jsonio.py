"""The one writer of the JSON files the library leaves behind (manifest, run_config, timings,
metrics, train summaries, adapter records): written atomically, so a crash never leaves a
half-written file that a resumed run would trust.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_json(path: str | Path, data: Any, *, indent: int | None = 2) -> Path:
    """Write ``data`` as UTF-8 JSON to ``path`` via a temporary sibling and an atomic rename.

    Creates the parent folder. Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_json(path: str | Path) -> Any:
    """Parse a JSON file written by :func:`write_json` (or anyone)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
