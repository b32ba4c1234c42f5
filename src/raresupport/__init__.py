"""raresupport: trustworthy support LLMs for rare diseases from a disease spec.

spec -> generate -> validate -> train -> evaluate -> review. Heavy parts (torch, transformers)
are imported lazily, so ``import raresupport`` and the CLI's ``--help`` stay fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from raresupport.data import MCQItem, Vignette, load_benchmark, load_vignettes
from raresupport.diseases import Disease, disease_names, load_disease
from raresupport.errors import (
    BenchmarkError,
    DataError,
    ModelError,
    RareSupportError,
    RegistryError,
    SpecError,
    TeacherError,
)
from raresupport.registry import Registry
from raresupport.spec import DiseaseSpec, load_spec

__version__ = "0.1.0"

#: public name -> module that defines it; imported on first use (keeps torch out of startup)
_LAZY = {
    "generate_dataset": "raresupport.generate.dataset",
    "GroundedGenerator": "raresupport.generate.grounded",
    "TeacherGenerator": "raresupport.generate.teacher",
    "TeacherConfig": "raresupport.generate.teacher",
    "validate_vignettes": "raresupport.generate.validate",
    "load_model": "raresupport.models.load",
    "TrainConfig": "raresupport.train.config",
    "RunConfig": "raresupport.config",
    "train_lora": "raresupport.train.lora",
    "evaluate_model": "raresupport.evaluate.runner",
    "run_pipeline": "raresupport.pipeline",
    "Assistant": "raresupport.assist",
    "AssistantReply": "raresupport.assist",
    "build_suites": "raresupport.safety",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'raresupport' has no attribute {name!r}")


__all__ = [
    "BenchmarkError", "DataError", "Disease", "DiseaseSpec", "MCQItem", "ModelError",
    "RareSupportError", "Registry", "RegistryError", "SpecError", "TeacherError", "Vignette",
    "__version__", "disease_names", "load_benchmark", "load_disease", "load_spec",
    "load_vignettes", *_LAZY,
]
