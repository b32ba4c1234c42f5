"""Reading and writing the library's text files: one rule for every JSONL and YAML/JSON input.

* **Encoding**: UTF-8; a leading byte-order mark (Excel, Notepad) is accepted everywhere, as
  ``datasets.load_dataset("json")`` and PyYAML accept it. A file that is not UTF-8 text (a
  binary file, Latin-1, UTF-16) is one error line naming the file and the byte offset.
* **Lines**: JSON Lines are split on ``"\\n"`` only (a trailing ``"\\r"`` is dropped), never
  with ``str.splitlines()``: that also splits on U+2028, U+2029, U+0085, U+001C-U+001E, which
  JSON allows raw inside strings and which ``json.dumps(..., ensure_ascii=False)`` writes.
* **Writing**: whole files atomically (temp file in the same folder, then rename), so a crash
  leaves the old file or the new one, never half of one.

Every reader takes the error type to raise (``BenchmarkError``, ``DataError``, ``SpecError``,
...), so each caller keeps its own error family and the CLI prints one line and exits 2.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from raresupport.errors import describe_validation_error

M = TypeVar("M", bound=BaseModel)


def read_text(path: str | Path, error: type[Exception], what: str = "file") -> str:
    """The text of a UTF-8 file, without a leading byte-order mark.

    Raises:
        error: ``<path>: cannot read <what> (<reason>)``, or ``<path>: not UTF-8 text (byte
            0x89 at byte offset 0); ...`` for a binary or otherwise encoded file, or for a
            NUL byte (no text format the library reads contains one).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        raise error(
            f"{path}: not UTF-8 text (byte 0x{data[offset]:02x} at byte offset {offset}); "
            f"save the {what} as UTF-8"
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        offset = skip + len(text[:nul].encode("utf-8"))
        raise error(f"{path}: binary data, not text (NUL byte at byte offset {offset})")
    return text


def parse_yaml(text: str, path: str | Path, error: type[Exception]) -> Any:
    """YAML ``text`` read from ``path``: safe types only, and a key given twice in one mapping
    is an error (plain PyYAML keeps the last one silently, dropping a whole duplicated section).

    Raises:
        error: ``path:LINE: invalid YAML: <problem>`` or ``path:LINE: duplicate key 'name'``.
    """
    import yaml

    class _Strict(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, (str, int, float, bool)) and key in seen:
                    raise error(f"{path}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    try:
        return yaml.load(text, Loader=_Strict)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).replace("\n", " ")
        raise error(f"{path}{line}: invalid YAML: {problem}") from None


def split_lines(text: str) -> list[str]:
    """Lines split on ``"\\n"`` only, each without a trailing ``"\\r"`` (see module docs)."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def iter_jsonl(
    path: str | Path, error: type[Exception], what: str = "JSONL file"
) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed JSON value)`` for every non-blank line of a JSONL file.

    Raises:
        error: unreadable or non-UTF-8 file, or ``<path>:<line>: invalid JSON (...)``.
    """
    path = Path(path)
    for lineno, line in enumerate(split_lines(read_text(path, error, what)), start=1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(
                f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})"
            ) from None


def parse_jsonl_line(path: Path, lineno: int, obj: Any, model: type[M], error: type) -> M:
    """Validate one parsed JSONL value into ``model`` or raise ``error`` naming file:line."""
    if isinstance(obj, str):  # a raw line (older callers)
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            msg = f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})"
            raise error(msg) from None
    if not isinstance(obj, dict):
        raise error(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        raise error(describe_validation_error(f"{path}:{lineno}", exc)) from None


def read_jsonl(
    path: str | Path, model: type[M], error: type[Exception], what: str = "JSONL file"
) -> list[tuple[int, M]]:
    """Every non-blank line validated into ``model``, with its line number.

    Raises:
        error: naming file, line and field of the first bad line.
    """
    path = Path(path)
    return [
        (lineno, parse_jsonl_line(path, lineno, obj, model, error))
        for lineno, obj in iter_jsonl(path, error, what)
    ]


def dumps_row(row: BaseModel | dict[str, Any]) -> str:
    """One JSONL line (without the newline): non-ASCII text kept as is."""
    data = row.model_dump(mode="json") if isinstance(row, BaseModel) else row
    return json.dumps(data, ensure_ascii=False)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 atomically (temp file in the same folder + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, path)
    return path


def write_jsonl(path: str | Path, rows: Iterable[BaseModel | dict[str, Any]]) -> Path:
    """Write models or dicts as JSONL atomically, so a crash loses nothing already written."""
    return write_text(path, "".join(dumps_row(row) + "\n" for row in rows))


def append_jsonl(path: str | Path, row: BaseModel | dict[str, Any]) -> None:
    """Append one line (a log that grows during a run, e.g. training steps)."""
    path = Path(path)
    with path.open("a", encoding="utf-8", newline="\n") as fh:
        fh.write(dumps_row(row) + "\n")


def write_json(path: str | Path, data: Any, *, indent: int | None = 2) -> Path:
    """Write one JSON document atomically: every JSON file the library leaves behind (manifest,
    run_config, timings, metrics, train summaries, adapter records) goes through here."""
    return write_text(path, json.dumps(data, indent=indent, ensure_ascii=False) + "\n")


def read_json(
    path: str | Path, error: type[Exception] = ValueError, what: str = "JSON file"
) -> Any:
    """Parse a JSON file (BOM accepted); ``error`` names the file on a bad document."""
    text = read_text(path, error, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
