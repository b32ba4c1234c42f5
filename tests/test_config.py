"""config.py: RunConfig names registered plug-ins; errors are one ConfigError line."""

from __future__ import annotations

from pathlib import Path

import pytest

from raresupport.config import EvalConfig, GenerateConfig, RunConfig, read_config_file, validated
from raresupport.errors import ConfigError
from raresupport.models.base import DEFAULT_MODEL
from raresupport.train.config import TrainConfig


def test_defaults_come_from_the_configs() -> None:
    cfg = RunConfig(disease="hyperhidrosis")
    assert cfg.model == DEFAULT_MODEL and cfg.train == TrainConfig()
    assert cfg.generate.generator == "grounded" and cfg.evaluate.headline == "loglik"


def test_plugin_names_are_checked_against_the_registries() -> None:
    assert GenerateConfig(generator="openai").generator == "openai"
    with pytest.raises(ConfigError, match="generate.generator: unknown generator 'gpt'; known: "):
        validated(RunConfig, {"disease": "x", "generate": {"generator": "gpt"}}, "run.yaml")
    with pytest.raises(ConfigError, match=r"run.yaml: evaluate.methods: unknown scorer 'acc'"):
        validated(RunConfig, {"disease": "x", "evaluate": {"methods": ["acc"]}}, "run.yaml")
    with pytest.raises(ConfigError, match="headline 'letter' is not among methods"):
        validated(EvalConfig, {"methods": ["loglik"], "headline": "letter"}, "run.yaml")


def test_a_partial_train_section_keeps_the_other_defaults() -> None:
    cfg = validated(RunConfig, {"disease": "x", "train": {"lr": 0.01}}, "flags")
    assert cfg.train.lr == 0.01 and cfg.train.epochs == TrainConfig().epochs


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"- a\n- b\n", "holds a mapping, not list"), (b"\x89PNG\r\n\x00", "not UTF-8 text"),
     (b"a: [1,\n", r"run.yaml:2: invalid YAML"), (b"a: 1\na: 2\n", "duplicate key")],
)  # fmt: skip
def test_bad_config_files_are_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "run.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as err:
        read_config_file(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_a_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_bytes(b"\xef\xbb\xbfgenerate:\n  n: 24\n")
    assert read_config_file(path) == {"generate": {"n": 24}}
