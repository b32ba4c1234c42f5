"""The few exception types users catch.

Every error raised for bad *input* names where the problem is (file, line, field path) in its
message, so the CLI can print it as one line without a traceback.
"""

from __future__ import annotations


class RareSupportError(Exception):
    """Base class: anything the CLI reports as a one-line error."""


class SpecError(RareSupportError):
    """A disease spec file is missing, malformed or inconsistent."""


class BenchmarkError(RareSupportError):
    """A benchmark (interchange JSONL) file has a bad line."""


class DataError(RareSupportError):
    """A dataset file (vignettes, review records) has a bad line."""


class RegistryError(RareSupportError, KeyError):
    """A plug-in name is unknown; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class ConfigError(RareSupportError):
    """A run, training or generator configuration (file, flags, options) is invalid."""


class ModelError(RareSupportError):
    """A model could not be located or loaded."""


class TeacherError(RareSupportError):
    """The teacher endpoint failed beyond what retries can absorb."""


class GenerationError(RareSupportError):
    """Generation produced no usable item; the message names the most common reject reason."""


def field_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as ``treatments[3].line``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


def describe_validation_error(where: str, exc: object) -> str:
    """One line naming ``where`` and each failing field path, e.g. ``spec.yaml: a[1].b: msg``."""
    parts = []
    for e in exc.errors(include_url=False):  # type: ignore[attr-defined]
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{field_path(tuple(e['loc']))}: {msg}" if e["loc"] else msg)
    return f"{where}: " + "; ".join(parts)
