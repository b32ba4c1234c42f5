"""Load a DiseaseSpec from YAML with errors that name the file, the field path and the line."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from raresupport.data.jsonl import parse_yaml, read_text
from raresupport.errors import SpecError, field_path
from raresupport.spec.models import DiseaseSpec


def load_spec(path: str | Path) -> DiseaseSpec:
    """Read and validate ``spec.yaml``.

    Raises:
        SpecError: e.g. ``spec.yaml:88: treatments[3].line: Input should be 1, 2 or 3``.
    """
    path = Path(path)
    text = read_text(path, SpecError, "spec")
    data = parse_yaml(text, path, SpecError)
    root = yaml.compose(text)
    if not isinstance(data, dict):
        raise SpecError(f"{path}: spec must be a mapping of fields, got {type(data).__name__}")
    try:
        return DiseaseSpec.model_validate(data)
    except ValidationError as exc:
        e = exc.errors(include_url=False)[0]
        loc = tuple(e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        # cross-reference errors carry their path in the message ("treatments[2].sites: ..."),
        # and an entry's own checks the path inside it ("keys[0]: ..."): join it to ``loc``
        head, sep, rest = msg.partition(": ")
        if sep and _PATH.fullmatch(head) and (not loc or "[" in head):
            loc, msg = loc + _parse_path(head), rest
        line = _line_of(root, loc)
        more = len(exc.errors()) - 1
        tail = f" (+{more} more error{'s' if more > 1 else ''})" if more else ""
        where = f"{path}:{line}" if line else str(path)
        raise SpecError(f"{where}: {field_path(loc)}: {msg}{tail}") from None


_PATH = re.compile(r"[A-Za-z_]\w*(\[\d+\])*(\.[A-Za-z_]\w*(\[\d+\])*)*")


def _parse_path(dotted: str) -> tuple[int | str, ...]:
    out: list[int | str] = []
    for part in dotted.replace("[", ".[").split("."):
        if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():
            out.append(int(part[1:-1]))
        elif part:
            out.append(part)
    return tuple(out)


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the deepest YAML node on ``loc`` (best effort)."""
    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line
