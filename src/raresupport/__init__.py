"""raresupport: trustworthy support LLMs for rare diseases from a disease spec.

spec -> generate -> validate -> train -> evaluate -> review. Heavy parts (torch, transformers)
are imported lazily, so ``import raresupport`` and the CLI's ``--help`` stay fast.

The verbs: :func:`load_disease`, :func:`get_generator` + :func:`generate_dataset`,
:func:`train_lora`, :func:`evaluate_benchmarks` / :func:`evaluate_model` over a backend
(:class:`LocalModel`, :class:`Endpoint`), :func:`write_report`, or all of it at once:
:func:`run_pipeline` with a :class:`RunConfig`. Plug-in families are :class:`Registry`
instances (``disease_registry``, ``generators``, ``scorers``, ``model_registry``, all in
``REGISTRIES``); errors live in
:mod:`raresupport.errors`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from raresupport.data import MCQItem, Vignette, load_benchmark, load_vignettes
from raresupport.diseases import Disease, disease_names, load_disease
from raresupport.diseases import diseases as disease_registry
from raresupport.errors import (
    BenchmarkError,
    ConfigError,
    DataError,
    ModelError,
    RareSupportError,
    RegistryError,
    SpecError,
    TeacherError,
)
from raresupport.registry import REGISTRIES, Registry
from raresupport.spec import DiseaseSpec, load_spec

__version__ = "0.1.0"

#: public name -> module that defines it; imported on first use (keeps torch out of startup)
_LAZY = {
    # configs
    "RunConfig": "raresupport.config",
    "GenerateConfig": "raresupport.config",
    "EvalConfig": "raresupport.config",
    "TrainConfig": "raresupport.train.config",
    "TeacherConfig": "raresupport.generate.teacher",
    # verbs
    "get_generator": "raresupport.generate",
    "generate_dataset": "raresupport.generate.dataset",
    "validate_vignettes": "raresupport.generate.validate",
    "train_lora": "raresupport.train.lora",
    "evaluate_model": "raresupport.evaluate.runner",
    "evaluate_benchmarks": "raresupport.evaluate.runner",
    "write_metrics": "raresupport.evaluate.runner",
    "write_report": "raresupport.evaluate.report",
    "load_metrics": "raresupport.evaluate.report",
    "run_pipeline": "raresupport.pipeline",
    "load_model": "raresupport.models.load",
    # backends, plug-ins and their Protocols
    "LocalModel": "raresupport.models.backends",
    "Endpoint": "raresupport.models.backends",
    "GroundedGenerator": "raresupport.generate.grounded",
    "TeacherGenerator": "raresupport.generate.teacher",
    "Generator": "raresupport.generate.base",
    "generators": "raresupport.generate.base",
    "Scorer": "raresupport.evaluate.base",
    "Prediction": "raresupport.evaluate.base",
    "scorers": "raresupport.evaluate.base",
    "ModelSource": "raresupport.models.base",
    "model_registry": "raresupport.models.base",
    "DEFAULT_MODEL": "raresupport.models.base",
    "Assistant": "raresupport.assist",
    "AssistantReply": "raresupport.assist",
    "EmergencyKind": "raresupport.spec",
    "match_emergencies": "raresupport.assist",
    "emergency_layer_metrics": "raresupport.safety.emergency",
    "build_suites": "raresupport.safety",
}


#: public names that differ from the defining module's (subpackages own the plain names)
_RENAMED = {"model_registry": "models"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), _RENAMED.get(name, name))
    raise AttributeError(f"module 'raresupport' has no attribute {name!r}")


__all__ = [
    "REGISTRIES", "BenchmarkError", "ConfigError", "DataError", "Disease", "DiseaseSpec",
    "MCQItem", "ModelError", "RareSupportError", "Registry", "RegistryError", "SpecError",
    "TeacherError", "Vignette", "__version__", "disease_names", "disease_registry",
    "load_benchmark",
    "load_disease", "load_spec", "load_vignettes", *_LAZY,
]  # fmt: skip
