"""Find a disease by registered id (entry-point group ``raresupport.diseases``) or by directory.

A disease is data only: ``spec.yaml``, optional ``templates/*.jinja2``, ``benchmark.jsonl`` (the
curated in-domain questions) and ``ood.jsonl`` (an out-of-domain control).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from types import ModuleType

from pydantic import BaseModel, ConfigDict

from raresupport.errors import SpecError
from raresupport.registry import Registry
from raresupport.spec import DiseaseSpec, load_spec

#: Entry points name a package (or any module) whose directory holds ``spec.yaml``.
diseases: Registry[ModuleType | str] = Registry("diseases")


class Disease(BaseModel):
    """A loaded disease: its spec plus where its data files live."""

    model_config = ConfigDict(frozen=True)

    spec: DiseaseSpec
    root: Path

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def benchmark_path(self) -> Path | None:
        p = self.root / "benchmark.jsonl"
        return p if p.exists() else None

    @property
    def ood_path(self) -> Path | None:
        p = self.root / "ood.jsonl"
        return p if p.exists() else None


def _root_of(target: ModuleType | str) -> Path:
    if isinstance(target, ModuleType):
        return Path(str(resources.files(target)))
    return Path(target)


def load_disease(name_or_path: str | Path) -> Disease:
    """Load ``"hyperhidrosis"`` (registered id) or ``"./my_disease"`` (a folder with spec.yaml)."""
    candidate = Path(name_or_path)
    if candidate.is_dir() or str(name_or_path).endswith(("/", ".yaml")) or candidate.exists():
        root = candidate.parent if candidate.suffix == ".yaml" else candidate
    else:
        root = _root_of(diseases.get(str(name_or_path)))
    spec_file = root / "spec.yaml"
    if not spec_file.exists():
        raise SpecError(f"{spec_file}: no spec.yaml in disease folder {root}")
    return Disease(spec=load_spec(spec_file), root=root)


def disease_names() -> list[str]:
    """Ids of all registered diseases (built-in and third-party)."""
    return diseases.names()
