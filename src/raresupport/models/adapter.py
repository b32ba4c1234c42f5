"""What an adapter folder records besides its weights, and the checks made when loading it.

``raresupport_adapter.json`` holds everything needed to rebuild the adapter's prompts and to
recognise its base model: the system prompt and prompt styles it was trained with, the base
model's name and a fingerprint of the base's config and weights. ``raresupport eval --adapter``
reads it, so evaluating an adapter needs no flag repeated from training; loading it onto another
base warns naming both (``strict``: raises).
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from raresupport.data.jsonl import read_json, write_json
from raresupport.errors import ModelError

RECORD_FILE = "raresupport_adapter.json"
#: values sampled from each weight tensor for the fingerprint (hashing all of a 135M model
#: would cost seconds; a few values per tensor already tell two trained bases apart)
SAMPLED_VALUES = 64
_VOLATILE_CONFIG = {"_name_or_path", "name_or_path", "transformers_version", "torch_dtype", "dtype"}


def base_fingerprint(model: Any) -> str:
    """A 16-hex-digit hash of a base model's config and a sample of its weights.

    Values are compared in bfloat16, so the same weights loaded as float32 or bfloat16 give
    the same fingerprint. A PEFT wrapper is looked through (its base weights are hashed).
    """
    import torch

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    config = {k: v for k, v in base.config.to_dict().items() if k not in _VOLATILE_CONFIG}
    h = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
    for name, tensor in sorted(base.state_dict().items()):
        if "lora_" in name:
            continue
        h.update(f"{name}{tuple(tensor.shape)}".encode())
        sample = tensor.detach().flatten()[:SAMPLED_VALUES].to(torch.bfloat16).float().cpu()
        h.update(sample.numpy().tobytes())
    return h.hexdigest()[:16]


def write_record(
    out_dir: Path, *, base_model: str, fingerprint: str, system_prompt: str | None,
    styles: tuple[str, ...] | list[str], extra: dict[str, Any] | None = None,
) -> Path:  # fmt: skip
    """Write ``out_dir/raresupport_adapter.json``."""
    record = {
        "base_model": base_model, "base_fingerprint": fingerprint,
        "system_prompt": system_prompt, "styles": list(styles), **(extra or {}),
    }  # fmt: skip
    return write_json(Path(out_dir) / RECORD_FILE, record)


def read_record(adapter_dir: str | Path) -> dict[str, Any] | None:
    """The adapter's record, or None for an adapter made elsewhere (plain PEFT folder)."""
    path = Path(adapter_dir).expanduser() / RECORD_FILE
    return read_json(path) if path.is_file() else None


def check_base(adapter_dir: Path, base_name: str, model: Any, *, strict: bool = False) -> None:
    """Warn (``strict``: raise ModelError) when ``model`` is not the base the adapter was
    trained on; both bases are named."""
    record = read_record(adapter_dir)
    if not record or not record.get("base_fingerprint"):
        return
    ours = base_fingerprint(model)
    if ours == record["base_fingerprint"]:
        return
    message = (
        f"adapter {adapter_dir} was trained on base {record['base_model']!r} (fingerprint "
        f"{record['base_fingerprint']}) but is loaded onto {base_name!r} (fingerprint {ours})"
    )
    if strict:
        raise ModelError(message)
    warnings.warn(message, stacklevel=3)


def shape_mismatch_line(adapter_dir: Path, exc: Exception) -> str:
    """One line for a failed adapter load: the first size mismatch and how many there are."""
    text = str(exc)
    mismatches = re.findall(r"size mismatch for ([^:]+): (.*)", text)
    if mismatches:
        name, detail = mismatches[0]
        more = f" (and {len(mismatches) - 1} more tensors)" if len(mismatches) > 1 else ""
        return (
            f"adapter {adapter_dir} does not fit this base model: {name.strip()}: "
            f"{detail.strip()}{more}"
        )
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"cannot load adapter {adapter_dir}: {first}"


def adapter_off(model: Any) -> AbstractContextManager[Any]:
    """A context in which ``model`` answers as its base model: a PEFT model's adapter layers
    are skipped (``PeftModel.disable_adapter``); any other model is left as it is.

    Used for questions the retriever finds off-topic (``RetrievalConfig.off_topic``).
    """
    from peft import PeftModel

    return model.disable_adapter() if isinstance(model, PeftModel) else nullcontext()
