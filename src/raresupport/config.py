"""The configuration of one pipeline run, fixed (and saved) before anything is evaluated.

Saving it first is what keeps the comparison honest: the headline method is chosen here, not
after seeing scores, and a resumed run refuses to continue under a different configuration.
Plug-ins are named here as registered (``generators``, ``scorers``, ``models``), so a
third-party generator or scorer installed through an entry point is a valid value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from raresupport.errors import ConfigError, describe_validation_error
from raresupport.models.base import DEFAULT_MODEL
from raresupport.models.precision import MixedPrecision
from raresupport.registry import check_name
from raresupport.retrieve.config import RetrievalConfig
from raresupport.safety.config import SafetyConfig
from raresupport.train.config import TrainConfig

Normalization = Literal["per_char", "per_token", "sum"]


class GenerateConfig(BaseModel):
    """How many vignettes, from which registered generator, with which options."""

    model_config = ConfigDict(extra="forbid")

    generator: str = "grounded"
    #: fields of the generator's own config (e.g. ``model``, ``base_url`` for ``openai``)
    options: dict[str, Any] = Field(default_factory=dict)
    n: int = Field(
        667, ge=4,
        description="Vignettes to generate (a tenth become val.jsonl, so ~600 train). With LoRA "
        "on the top 8 layers the cheapest budget measured within noise of the best on the "
        "people validation split (tuned + notes 0.469 vs 0.475 for 1200 items, paired 95% CI "
        "of the difference -0.018..0.029, n = 718) that also beats the untuned model (0.432, "
        "p 0.025), at 0.54x the training CPU-seconds; docs/measurements.md.",
    )
    seed: int = 0
    avoid: list[Path] = Field(default_factory=list)
    val_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    people_val: int = Field(
        720, ge=0,
        description="Items of the people validation split (val_people.jsonl): patient-voiced "
        "questions and clinician vignettes whose options use the spec's held-out rewordings; "
        "settings are chosen on it, never on the shipped benchmark. 720: at 240 items (standard "
        "error ~0.03) a cheaper training budget looked within noise of the default and was "
        "clearly worse at 718 (docs/measurements.md).",
    )

    @field_validator("generator")
    @classmethod
    def _known(cls, v: str) -> str:
        from raresupport.generate.base import generators

        return check_name(generators, v)


class EvalConfig(BaseModel):
    """Scoring methods; ``headline`` is the one each model is judged by, fixed up front."""

    model_config = ConfigDict(extra="forbid")

    methods: tuple[str, ...] = Field(
        ("loglik",),
        description="Scoring rules each model is scored with. `loglik` alone is the peer "
        "standard for multiple-choice items (lm-evaluation-harness acc/acc_norm); `letter` "
        "(the option letter after a listed-options prompt) doubles the scoring time and "
        "scored at chance with SmolLM2-135M (0.26-0.28 on the shipped benchmark, 0.23 on the "
        "control, both cells): add it for larger models, e.g. [letter, loglik].",
    )
    headline: str = Field(
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
    cad_alpha: float = Field(
        0.5, ge=0.0,
        description="Context-aware decoding's alpha: (1+alpha) * with notes - alpha * without. "
        "0.5 is Shi et al. 2023's default (not tuned on the shipped benchmark); the run reports "
        "it and AdaCAD's per-item alpha as `cad` and `cad_adaptive` variants of the notes "
        "cell, computed from both cells' scores, and the `cad` method uses it.",
    )  # fmt: skip
    batch_size: int = Field(8, ge=1)
    mixed_precision: MixedPrecision = Field(
        "auto",
        description="bf16 autocast for scoring where bf16 matmuls are native (as in training). "
        "On the reference run's tuned adapter (AMX CPU) bf16 and float32 made the same loglik "
        "decision on 98-99 % of benchmark and control items (docs/training.md).",
    )
    extra_benchmarks: list[Path] = Field(default_factory=list)

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from raresupport.evaluate.base import scorers

        if not v:
            raise ValueError("need at least one method")
        return tuple(check_name(scorers, m) for m in v)

    @model_validator(mode="after")
    def _headline_is_scored(self) -> EvalConfig:
        if self.headline not in self.methods:
            raise ValueError(f"headline {self.headline!r} is not among methods {self.methods}")
        return self


class RunConfig(BaseModel):
    """Everything ``raresupport run`` does, saved as ``run_config.json`` in the run folder."""

    model_config = ConfigDict(extra="forbid")

    disease: str
    model: str = DEFAULT_MODEL
    generate: GenerateConfig = Field(default_factory=GenerateConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    evaluate: EvalConfig = Field(default_factory=EvalConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)


def validated(model: type[BaseModel], data: Any, where: str) -> Any:
    """``model.model_validate(data)``, with errors as one ConfigError line naming ``where``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(where, exc)) from None


def read_config_file(path: Path) -> dict[str, Any]:
    """The mapping in a JSON or YAML config file.

    Raises:
        ConfigError: one line naming the file (and line): unreadable, not UTF-8, invalid YAML,
            a duplicate key, or not a mapping.
    """
    from raresupport.data.jsonl import parse_yaml, read_text

    data = parse_yaml(read_text(path, ConfigError, "config"), path, ConfigError) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file holds a mapping, not {type(data).__name__}")
    return data


def key_values(pairs: list[str], flag: str) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}``: repeated ``KEY=VALUE`` CLI options.

    Values are parsed as YAML scalars (numbers, booleans, strings).

    Raises:
        ConfigError: a pair without ``=``, with an empty key or with a value that is not
            valid YAML, naming ``flag`` and the pair.
    """
    from raresupport.data.jsonl import parse_yaml

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} {pair!r}: expected KEY=VALUE")
        out[key.strip()] = parse_yaml(value, f"{flag} {pair!r}", ConfigError) if value else ""
    return out


def override(data: dict[str, Any], path: str, value: Any, where: str) -> None:
    """Set the dotted ``path`` of a config mapping to ``value`` unless ``value`` is None.

    This is how a command-line flag wins over the config file it came with (``train.lr``):
    missing or empty sections on the way are created.

    Raises:
        ConfigError: a section on the way is not a mapping, e.g. ``c.yaml: generate must be a
            mapping, not int``.
    """
    if value is None:
        return
    keys = path.split(".")
    node = data
    for i, key in enumerate(keys[:-1]):
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        elif not isinstance(child, dict):
            dotted = ".".join(keys[: i + 1])
            raise ConfigError(f"{where}: {dotted} must be a mapping, not {type(child).__name__}")
        node = child
    node[keys[-1]] = value


def shown_default(value: object) -> str:
    """`` [default: value]`` for a CLI help text, escaped so typer's rich markup keeps it.

    Options whose default lives in a config are declared ``None`` in the CLI (so a config file
    can set them); this shows the config's value in ``--help`` without copying it by hand.
    """
    return rf" \[default: {value}]"
