"""Scaffold a new disease package: ``raresupport new-disease NAME --out DIR``.

A disease is data, so adapting the library to a new one means writing a package that holds a
``spec.yaml``, optional ``templates/*.jinja2``, a ``benchmark.jsonl`` and a ``pyproject.toml``
declaring the ``raresupport.diseases`` entry point. :func:`new_disease` writes that package from
the skeleton shipped in ``scaffold/skeleton`` (``*.tmpl`` files are rendered with the disease's
name, id and package name; other files are copied verbatim). The spec skeleton is commented,
marks every placeholder ``REPLACE``, and validates as written, so ``raresupport generate`` runs
on it at once and each edit can be checked with ``raresupport spec validate``.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import unicodedata
from importlib import resources
from pathlib import Path

import jinja2
from pydantic import BaseModel, ConfigDict

from raresupport.errors import RareSupportError, SpecError
from raresupport.spec import DiseaseSpec, load_spec

__all__ = ["Scaffold", "ScaffoldError", "disease_id_from_name", "new_disease"]

#: Names become YAML plain scalars and JSON strings in the skeleton: letters (any script),
#: digits, spaces and ' ( ) , . - only, so no character can change the files' structure.
_NAME = re.compile(r"^\w[\w '(),.-]*$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
#: skeleton-relative files that live at the package root; everything else goes in src/<package>/
_TOP_LEVEL = {"pyproject.toml", "README.md"}


class ScaffoldError(RareSupportError):
    """The name, id or output folder cannot be used; nothing was written."""


class Scaffold(BaseModel):
    """What :func:`new_disease` wrote."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    package: str
    root: Path
    spec: DiseaseSpec

    @property
    def data_dir(self) -> Path:
        """The folder with spec.yaml (what ``load_disease`` and ``spec validate`` accept)."""
        return self.root / "src" / self.package

    def next_commands(self) -> list[str]:
        """The three commands to run next, in order."""
        return [
            f"raresupport spec validate {self.data_dir}",
            f"pip install -e {self.root}",
            f"raresupport generate {self.id} --n 60 --out runs/{self.id}-data",
        ]


def disease_id_from_name(name: str) -> str:
    """``"Hailey-Hailey disease"`` -> ``"hailey-hailey-disease"`` (ASCII, lower case, hyphens)."""
    no_apostrophes = name.replace("'", "")  # "Behçet's" -> "behcets", not "behcet-s"
    ascii_name = unicodedata.normalize("NFKD", no_apostrophes).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def new_disease(name: str, out: str | Path, *, disease_id: str | None = None) -> Scaffold:
    """Write a disease package for ``name`` into ``out`` and check that its spec validates.

    Args:
        name: Display name, e.g. ``"Hailey-Hailey disease"``.
        out: Package folder to create; it must not exist or be empty.
        disease_id: Registered id; default derived from ``name`` (:func:`disease_id_from_name`).

    Returns:
        The written :class:`Scaffold` (its ``spec`` is the validated skeleton).

    Raises:
        ScaffoldError: bad name or id, or ``out`` is a file or a non-empty folder. The package is
            assembled in a temporary folder and moved into place at the end, so a failure leaves
            nothing behind.
    """
    name = name.strip()
    if not _NAME.match(name):
        raise ScaffoldError(
            f"name {name!r}: use letters, digits, spaces and ' ( ) , . - only "
            "(it is written into YAML and JSON files)"
        )
    did = disease_id if disease_id is not None else disease_id_from_name(name)
    if not _ID.match(did):
        raise ScaffoldError(
            f"id {did!r}: must start with a lower-case letter or digit and contain only "
            "a-z, 0-9, - and _ (pass --id)"
        )
    root = Path(out).expanduser()
    if root.is_file() or (root.is_dir() and any(root.iterdir())):
        raise ScaffoldError(f"{root}: already exists and is not empty; choose a new --out folder")
    package = "raresupport_" + did.replace("-", "_")
    context = {"name": name, "id": did, "package": package, "dist_name": f"raresupport-{did}"}

    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".new-disease-", dir=root.parent))
    try:
        _write_skeleton(staging, package, context)
        try:
            spec = load_spec(staging / "src" / package / "spec.yaml")
        except SpecError as exc:  # pragma: no cover - the skeleton is tested to validate
            raise ScaffoldError(f"internal: the spec skeleton does not validate ({exc})") from exc
        if root.is_dir():
            root.rmdir()  # empty, checked above
        staging.rename(root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Scaffold(id=did, name=name, package=package, root=root, spec=spec)


def _write_skeleton(dest: Path, package: str, context: dict[str, str]) -> None:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    env.filters["quoted"] = lambda value: json.dumps(value, ensure_ascii=False)  # valid YAML
    skeleton = resources.files(__package__) / "skeleton"
    with resources.as_file(skeleton) as skel_dir:
        for src in sorted(p for p in Path(skel_dir).rglob("*") if p.is_file()):
            rel = src.relative_to(skel_dir)
            rendered = rel.name.endswith(".tmpl")
            target_rel = rel.with_name(rel.name.removesuffix(".tmpl"))
            base = dest if str(target_rel) in _TOP_LEVEL else dest / "src" / package
            target = base / target_rel
            target.parent.mkdir(parents=True, exist_ok=True)
            text = src.read_text(encoding="utf-8")
            if rendered:
                text = env.from_string(text).render(**context)
            target.write_text(text, encoding="utf-8")
    (dest / "src" / package / "__init__.py").write_text("", encoding="utf-8")
