"""The configuration of one pipeline run, fixed (and saved) before anything is evaluated.

Saving it first is what keeps the comparison honest: the headline method is chosen here, not
after seeing scores, and a resumed run refuses to continue under a different configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from raresupport.generate.teacher import TeacherConfig
from raresupport.retrieve.config import RetrievalConfig
from raresupport.safety.config import SafetyConfig
from raresupport.train.config import TrainConfig

Method = Literal["letter", "loglik"]
Normalization = Literal["per_char", "per_token", "sum"]

#: What ``raresupport run`` trains with, unless told otherwise: measured on SmolLM2-135M with
#: 2 CPU cores (docs/training.md has the table). Many varied items seen twice beat few items
#: seen five times on held-out items and on the out-of-domain control; LoRA on the top 8 layers
#: only keeps the run within a CPU budget.
RUN_TRAIN_DEFAULTS: dict[str, Any] = {"top_layers": 8, "epochs": 2.5, "styles": ("cloze",)}


class GenerateConfig(BaseModel):
    """How many vignettes, from which generator (``teacher=None``: offline grounded)."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(1200, ge=4)
    seed: int = 0
    teacher: TeacherConfig | None = None
    avoid: list[Path] = Field(default_factory=list)
    val_fraction: float = Field(0.1, ge=0.0, lt=1.0)


class EvalConfig(BaseModel):
    """Scoring methods; ``headline`` is the one each model is judged by, fixed up front."""

    model_config = ConfigDict(extra="forbid")

    methods: tuple[Method, ...] = ("letter", "loglik")
    headline: Method = Field(
        "loglik",
        description="Small models bind letters to options poorly, so the default headline is "
        "the length-normalised option log-likelihood; every method is still reported.",
    )
    normalization: Normalization = Field(
        "per_char",
        description="How loglik compares options of different lengths: per character "
        "(lm-evaluation-harness acc_norm, the peer standard), per token, or the plain sum; the "
        "other two are still reported.",
    )  # fmt: skip
    batch_size: int = Field(8, ge=1)
    extra_benchmarks: list[Path] = Field(default_factory=list)


class RunConfig(BaseModel):
    """Everything ``raresupport run`` does, saved as ``run_config.json`` in the run folder."""

    model_config = ConfigDict(extra="forbid")

    disease: str
    model: str = "smollm2-135m"
    generate: GenerateConfig = Field(default_factory=GenerateConfig)
    train: TrainConfig = Field(default_factory=lambda: TrainConfig(**RUN_TRAIN_DEFAULTS))
    evaluate: EvalConfig = Field(default_factory=EvalConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)

    @field_validator("train", mode="before")
    @classmethod
    def _run_defaults(cls, value: Any) -> Any:
        """A partial ``train`` section (a file, ``--lr``) fills the rest from the run defaults."""
        return {**RUN_TRAIN_DEFAULTS, **value} if isinstance(value, dict) else value
