"""Scores that cannot change are not recomputed: a content-addressed cache of untuned results.

The untuned model's cells (with and without notes) and its safety suites give the same numbers
in every run of the same base weights, items, prompt, notes, scoring rules and precision; a
second run (another adapter, another training budget) read them from here instead of scoring
them again. An entry's key hashes everything that fixes the result (:func:`score_key`): change
any part and the entry is not found, so it is computed and stored anew.

Entries live in ``$RARESUPPORT_CACHE/scores/<key>/`` (default ``~/.cache/raresupport``; or in
``$RARESUPPORT_SCORES_DIR`` when set, as the test suite does), each a folder of the files the
step writes, published by an atomic rename so a half-written entry is
never read. ``RARESUPPORT_SCORE_CACHE=0`` (the CLI's ``--no-score-cache``) bypasses the cache:
nothing is read or written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: bump when a scorer's numbers change for the same inputs (old entries are then not found)
CACHE_VERSION = 1
ENV = "RARESUPPORT_SCORE_CACHE"
DIR_ENV = "RARESUPPORT_SCORES_DIR"


def enabled() -> bool:
    """False when ``$RARESUPPORT_SCORE_CACHE`` is ``0``/``off``/``false``/``no``."""
    return os.environ.get(ENV, "1").strip().lower() not in {"0", "off", "false", "no"}


def disable() -> None:
    """Bypass the cache for this process and its children (``--no-score-cache``)."""
    os.environ[ENV] = "0"


def scores_dir() -> Path:
    """``$RARESUPPORT_SCORES_DIR``, else ``$RARESUPPORT_CACHE/scores``."""
    from raresupport.models.smollm2 import cache_root

    env = os.environ.get(DIR_ENV)
    return Path(env).expanduser() if env else cache_root() / "scores"


def items_hash(items: Iterable[Any]) -> str:
    """sha256 of benchmark items (pydantic models or dicts) in order, notes included."""
    h = hashlib.sha256()
    for item in items:
        row = item.model_dump(mode="json") if hasattr(item, "model_dump") else dict(item)
        if getattr(item, "notes", None):  # excluded from dumps (never written), read by scorers
            row["notes"] = item.notes
        h.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def runtime() -> dict[str, str]:
    """Library versions whose kernels fix the numbers (part of every key)."""
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__}


def model_parts(model: Any, mixed_precision: str) -> dict[str, Any]:
    """What fixes a local model's scores besides its inputs: base weights' fingerprint, dtype,
    device type and whether bf16 autocast applies (``mixed_precision`` resolved)."""
    from raresupport.evaluate.base import model_device
    from raresupport.models.adapter import base_fingerprint
    from raresupport.models.precision import use_bf16

    device = model_device(model)
    return {"base": base_fingerprint(model), "dtype": str(next(model.parameters()).dtype),
            "device": device.type, "bf16": use_bf16(mixed_precision, device)}  # fmt: skip


def score_key(parts: Mapping[str, Any]) -> str:
    """A 24-hex-digit key of ``parts`` (JSON-able), the cache version and :func:`runtime`."""
    blob = json.dumps({"version": CACHE_VERSION, **runtime(), **parts}, sort_keys=True,
                      default=str)  # fmt: skip
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def lookup(key: str) -> Path | None:
    """The entry folder for ``key``, or None when absent or the cache is bypassed."""
    if not enabled():
        return None
    folder = scores_dir() / key
    return folder if (folder / "key.json").is_file() else None


def store(key: str, parts: Mapping[str, Any], files: Mapping[str, Path]) -> Path | None:
    """Copy ``files`` (``{name: path}``) into the entry for ``key``; None when bypassed.

    The folder appears whole or not at all (written beside it, then renamed); a concurrent
    writer of the same key leaves one of the two identical entries.
    """
    if not enabled():
        return None
    root = scores_dir()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
    try:
        for name, path in files.items():
            shutil.copyfile(path, tmp / name)
        (tmp / "key.json").write_text(json.dumps({"key": key, **parts}, indent=1, default=str),
                                      encoding="utf-8")  # fmt: skip
        tmp.rename(root / key)
    except OSError:  # another process published the same key first, or the disk is full
        shutil.rmtree(tmp, ignore_errors=True)
    return lookup(key)


def restore(entry: Path, files: Mapping[str, Path]) -> None:
    """Copy the entry's files back to where the step writes them (``{name: path}``)."""
    for name, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry / name, path)
