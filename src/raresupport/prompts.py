"""Jinja2 prompt templates: sandboxed, strict, and overridable per disease and per user.

Templates are looked up, first match wins, in a user folder (``--templates``), the disease's
``templates/`` folder, then the package defaults in ``raresupport/generate/templates``. The
defaults are also reachable as ``default/<name>`` so an override can ``{% extends
"default/vignette.jinja2" %}`` and replace one block instead of copying the whole prompt.

The sandbox matters because templates may come from a third-party disease package; strict
undefined matters because a typo in a template must fail loudly, not send the teacher an empty
section.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

#: The package's default templates (system.jinja2, vignette.jinja2).
DEFAULT_TEMPLATES = Path(__file__).parent / "generate" / "templates"


def template_env(disease: Any = None, user_dir: str | Path | None = None) -> SandboxedEnvironment:
    """Environment whose loader searches ``user_dir``, the disease's templates, then defaults.

    Args:
        disease: a ``Disease`` (anything with ``templates_dir``) or None for defaults only.
        user_dir: optional folder of user overrides; it must exist if given.
    """
    loaders: list[jinja2.BaseLoader] = []
    if user_dir is not None:
        user_dir = Path(user_dir)
        if not user_dir.is_dir():
            raise FileNotFoundError(f"{user_dir}: templates folder does not exist")
        loaders.append(jinja2.FileSystemLoader(user_dir, encoding="utf-8-sig"))
    disease_dir = getattr(disease, "templates_dir", None)
    if disease_dir is not None and Path(disease_dir).is_dir():
        loaders.append(jinja2.FileSystemLoader(disease_dir, encoding="utf-8-sig"))
    defaults = jinja2.FileSystemLoader(DEFAULT_TEMPLATES)
    loaders += [defaults, jinja2.PrefixLoader({"default": defaults})]
    return SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts are plain text, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def template_hash(env: jinja2.Environment, name: str) -> str:
    """sha256 over the source of ``name`` and every template it extends/includes/imports.

    Hashing the whole closure means editing the default a disease override extends still
    changes the hash recorded in provenance.
    """
    digest = hashlib.sha256()
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        source, _, _ = env.loader.get_source(env, current)  # type: ignore[union-attr]
        digest.update(f"{current}\0{source}\0".encode())
        refs = meta.find_referenced_templates(env.parse(source))
        pending.extend(sorted(r for r in refs if r is not None))
    return digest.hexdigest()


def render_text(env: jinja2.Environment, name: str, **ctx: Any) -> str:
    """Render template ``name`` with ``ctx`` (surrounding blank space trimmed)."""
    return env.get_template(name).render(**ctx).strip() + "\n"


def render(env: jinja2.Environment, name: str, **ctx: Any) -> tuple[str, str]:
    """Render template ``name`` with ``ctx``; returns (text, template_hash).

    Rendering many items? Hash once with ``template_hash`` and call ``render_text``.
    """
    return render_text(env, name, **ctx), template_hash(env, name)
