"""Model short names (a plug-in family) and the default model.

A short name maps to a function returning a local model folder, called only when the model is
loaded (it may convert or build the model first). Third parties add names through the entry
point group ``raresupport.models``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from raresupport.registry import Registry

#: the base model of ``raresupport run``, ``train``, ``eval`` and ``export`` unless told otherwise
DEFAULT_MODEL = "smollm2-135m"


@runtime_checkable
class ModelSource(Protocol):
    """``source() -> Path``: the local folder (config, weights, tokenizer) of a short name."""

    def __call__(self) -> Path: ...


#: short name -> ModelSource; built-in: smollm2-135m (the embedded SmolLM2-135M-Instruct)
models: Registry[ModelSource] = Registry(
    "models", protocol=ModelSource, builtins=("raresupport.models.smollm2",)
)
