"""Load any causal LM (HF id, local folder or a short name) plus an optional LoRA adapter.

One entry point for training, evaluation and review, so they all see the same model, dtype,
device and padding setup. Short names map to models the project can provide offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raresupport.errors import ModelError
from raresupport.models.base import models

_DTYPES = {
    "float32": "float32", "fp32": "float32", "float": "float32",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
    "float16": "float16", "fp16": "float16", "half": "float16",
}  # fmt: skip


def resolve_model(name: str) -> str:
    """Map a short name to its local folder; pass HF ids and local paths through unchanged."""
    key = name.strip()
    if key.lower() in models:
        return str(models.get(key.lower())())
    path = Path(key).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelError(f"model {name!r}: {path} is a file; pass the model's directory")
        return str(path)
    if key.startswith((".", "/", "~")) or key.count("/") > 1:
        raise ModelError(f"model {name!r}: no such directory {path}")
    return key


def pick_device(device: str | None = None) -> str:
    """``device`` as given, else CUDA when present, else CPU."""
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(dtype: str, device: str) -> Any:
    """float32 on CPU (bf16 matmuls are slow and lossy there); bf16 on CUDA when "auto"."""
    import torch

    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if dtype.lower() not in _DTYPES:
        raise ModelError(f"unknown dtype {dtype!r}; use auto, {', '.join(sorted(set(_DTYPES)))}")
    return getattr(torch, _DTYPES[dtype.lower()])


def _dtype_kwarg() -> str:
    """transformers renamed ``torch_dtype`` to ``dtype`` in 4.56."""
    import transformers
    from packaging.version import Version

    return "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"


def _load_error(name: str, path: str, exc: Exception) -> ModelError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = ""
    if not Path(path).exists():
        hint = (
            " (if this is a Hub id, this machine may not reach the Hub: pass a local directory "
            "or the short name 'smollm2-135m')"
        )
    return ModelError(f"cannot load model {name!r} from {path}: {first}{hint}")


def load_tokenizer(path: str, name: str | None = None) -> Any:
    """AutoTokenizer with a pad token guaranteed (batched scoring and training need one)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one readable ModelError
        raise _load_error(name or path, path, exc) from exc
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
        else:
            tokenizer.add_special_tokens({"pad_token": "<|pad|>"})
    return tokenizer


def _adapter_dir(adapter: str | Path) -> Path:
    """The adapter folder, checked before any weights are loaded (ModelError if not one)."""
    adapter_path = Path(adapter).expanduser()
    if not (adapter_path / "adapter_config.json").is_file():
        raise ModelError(f"adapter {adapter_path}: no adapter_config.json (not a PEFT adapter)")
    return adapter_path


def _attach_adapter(
    model: Any, adapter: str | Path, for_training: bool, base_name: str, strict: bool
) -> Any:
    from peft import PeftModel

    from raresupport.models.adapter import check_base, shape_mismatch_line

    adapter_path = _adapter_dir(adapter)
    check_base(adapter_path, base_name, model, strict=strict)
    try:
        return PeftModel.from_pretrained(model, str(adapter_path), is_trainable=for_training)
    except Exception as exc:  # noqa: BLE001
        raise ModelError(shape_mismatch_line(adapter_path, exc)) from None


def load_model(
    name_or_path: str,
    *,
    adapter: str | Path | None = None,
    dtype: str = "auto",
    device: str | None = None,
    for_training: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` for scoring (eval mode) or training (train mode).

    Args:
        name_or_path: HF id, local folder, or a short name such as ``smollm2-135m``.
        adapter: folder of a PEFT adapter saved with ``save_pretrained``; trainable if
            ``for_training``.
        dtype: ``auto`` (float32 on CPU, bf16 on CUDA), ``float32``, ``bfloat16``, ``float16``.
        device: ``cpu``, ``cuda``, ``cuda:1``...; default CUDA when available.
        strict: refuse (instead of warning about) an adapter trained on another base.

    Returns:
        ``(model, tokenizer)``; the tokenizer always has a pad token.

    Raises:
        ModelError: the model or adapter cannot be found or loaded (one line), or, with
            ``strict``, the adapter was trained on another base.
    """
    from transformers import AutoModelForCausalLM

    if adapter is not None:
        _adapter_dir(adapter)  # a wrong folder fails now, not after minutes of loading
    path = resolve_model(name_or_path)
    device = pick_device(device)
    torch_dtype = pick_dtype(dtype, device)
    tokenizer = load_tokenizer(path, name_or_path)
    try:
        model = AutoModelForCausalLM.from_pretrained(path, **{_dtype_kwarg(): torch_dtype})
    except Exception as exc:  # noqa: BLE001
        raise _load_error(name_or_path, path, exc) from exc
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if getattr(model, "generation_config", None) is not None:
        if model.generation_config.pad_token_id is None:
            model.generation_config.pad_token_id = tokenizer.pad_token_id
    if adapter is not None:
        model = _attach_adapter(model, adapter, for_training, name_or_path, strict)
    model.to(device)
    model.train(for_training)
    return model, tokenizer
