"""get_generator: a generator gets only options its own config has; defaults stay in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from raresupport.cli import app
from raresupport.errors import ConfigError, RegistryError
from raresupport.generate import get_generator


def test_options_a_generator_does_not_take_are_refused() -> None:
    with pytest.raises(ConfigError, match="generator 'grounded' has no option base_url"):
        get_generator("grounded", {"base_url": "http://127.0.0.1:1/v1"})
    with pytest.raises(ConfigError, match="generator 'openai' has no option temperatur"):
        get_generator("openai", {"model": "m", "temperatur": 0.2})
    with pytest.raises(ConfigError, match="generator 'openai': concurrency"):
        get_generator("openai", {"model": "m", "concurrency": 0})  # validated by its config
    with pytest.raises(RegistryError, match="known: grounded, openai"):
        get_generator("gpt", {})


def test_unset_options_keep_the_generator_defaults(tmp_path: Path) -> None:
    from raresupport.generate.teacher import TeacherConfig

    gen = get_generator("openai", {"model": "m", "concurrency": None}, cache_dir=tmp_path)
    assert gen.config.cache_dir == tmp_path
    assert gen.config.concurrency == TeacherConfig(model="m").concurrency
    own = get_generator("openai", {"model": "m", "cache_dir": tmp_path / "own"}, cache_dir=tmp_path)
    assert own.config.cache_dir == tmp_path / "own"


def test_generate_cli_refuses_a_teacher_option_for_the_offline_generator(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["generate", "hyperhidrosis", "--n", "4", "--out",
                                   str(tmp_path / "o"), "--base-url", "http://x/v1"])  # fmt: skip
    assert res.exit_code == 2
    assert "generator 'grounded' has no option base_url" in " ".join(res.output.split())
    assert not (tmp_path / "o" / "manifest.json").exists()
