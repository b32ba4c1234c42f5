"""Training data in: vignettes from a list, a JSONL file or a dataset folder, and the system
prompt that dataset was made for (its manifest names the disease)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from raresupport.data.vignette import Vignette, load_vignettes
from raresupport.errors import DataError


def read_training_data(data: Path | str | Sequence[Vignette]) -> list[Vignette]:
    """Vignettes from a list, a JSONL file, or a dataset folder holding ``train.jsonl``.

    Raises:
        DataError: no such file, a bad line (file and line named), or no trainable item, so
            training fails before a model is loaded.
    """
    if not isinstance(data, (str, Path)):
        return list(data)
    path = Path(data)
    if path.is_dir():
        path = path / "train.jsonl"
    if not path.is_file():
        raise DataError(f"{path}: no training data (expected a train.jsonl file or its folder)")
    vignettes = load_vignettes(path)
    if not any(v.status != "rejected" for v in vignettes):
        raise DataError(f"{path}: no training items (the file is empty or every item is rejected)")
    return vignettes



def dataset_system_prompt(data: Path | str | Sequence[Vignette]) -> str | None:
    """The system prompt of the disease a dataset folder was generated for (its manifest's
    ``disease``; for a run's ``raft/`` folder, the manifest of the dataset it was built from),
    so ``raresupport train DATA`` trains the prompt ``run`` would; None when the data carries
    no manifest or names no loadable disease."""
    if not isinstance(data, (str, Path)):
        return None
    from raresupport.data.jsonl import read_json
    from raresupport.diseases import load_disease
    from raresupport.errors import RareSupportError

    folder = Path(data) if Path(data).is_dir() else Path(data).parent
    manifest = folder / "manifest.json"
    raft = folder / "retrieval.json"  # a run's raft/ folder points at its source dataset
    if not manifest.is_file() and raft.is_file():
        try:
            manifest = folder / read_json(raft)["data"] / "manifest.json"
        except (RareSupportError, KeyError, TypeError, ValueError):
            return None
    if not manifest.is_file():
        return None
    try:
        return load_disease(read_json(manifest)["disease"]).spec.system_prompt
    except (RareSupportError, KeyError, ValueError):
        return None
