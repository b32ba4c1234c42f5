"""prompts.py: user templates over the disease's over the defaults, sandboxed and strict."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest

from raresupport.prompts import render, render_text, template_env, template_hash


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_user_folder_wins_over_disease_which_wins_over_defaults(tmp_path: Path) -> None:
    disease = SimpleNamespace(templates_dir=_write(tmp_path / "d", "a.jinja2", "disease"))
    _write(tmp_path / "d", "b.jinja2", "disease b")
    user = _write(tmp_path / "u", "a.jinja2", "user")
    env = template_env(disease, user)
    assert render_text(env, "a.jinja2") == "user\n"
    assert render_text(env, "b.jinja2") == "disease b\n"
    assert "{" in env.loader.get_source(env, "default/vignette.jinja2")[0]


def test_an_override_extending_a_default_changes_hash_when_the_default_does(tmp_path) -> None:
    user = _write(tmp_path / "u", "x.jinja2", '{% extends "default/system.jinja2" %}')
    env = template_env(None, user)
    own = _write(tmp_path / "v", "x.jinja2", "{% block b %}fixed{% endblock %}")
    assert template_hash(env, "x.jinja2") != template_hash(template_env(None, own), "x.jinja2")
    text, digest = render(template_env(None, own), "x.jinja2")
    assert text == "fixed\n" and len(digest) == 64


def test_undefined_names_fail_and_the_sandbox_holds(tmp_path: Path) -> None:
    env = template_env(None, _write(tmp_path / "u", "t.jinja2", "{{ missing }}"))
    with pytest.raises(jinja2.UndefinedError):
        render_text(env, "t.jinja2")
    env = template_env(None, _write(tmp_path / "s", "t.jinja2", "{{ x.__class__.__mro__ }}"))
    with pytest.raises(jinja2.exceptions.SecurityError):
        render_text(env, "t.jinja2", x=1)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        template_env(None, tmp_path / "nope")
