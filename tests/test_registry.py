"""registry.py: collisions refused, entry points lazy, broken third-party plug-ins warn, and
every registered plug-in of every family satisfies its Protocol."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from raresupport.errors import RegistryError
from raresupport.registry import REGISTRIES, Registry

FAMILY_MODULES = __import__("raresupport.cli", fromlist=["FAMILY_MODULES"]).FAMILY_MODULES


def _dist(root: Path, name: str, entry_points: str, module: str = "", code: str = "") -> None:
    """A fake installed distribution: ``name-1.0.dist-info`` plus an optional module."""
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)
    if module:
        (root / f"{module}.py").write_text(code)


def test_decorator_get_names_and_unknown_name() -> None:
    reg: Registry[object] = Registry("widgets-a")

    @reg.register("a")
    class A:
        pass

    assert reg.get("a") is A and reg.names() == ["a"] and "a" in reg
    with pytest.raises(RegistryError, match="unknown widgets-a 'b'; known: a"):
        reg.get("b")
    REGISTRIES.pop("widgets-a")


def test_a_name_collision_is_refused() -> None:
    reg: Registry[object] = Registry("widgets-b")
    reg.add("x", int)
    reg.add("x", int)  # the same plug-in again (a module reload) is fine
    with pytest.raises(RegistryError, match="name 'x' is taken by builtins.int"):
        reg.add("x", str)
    with pytest.raises(RegistryError, match="already exists"):
        Registry("widgets-b")
    REGISTRIES.pop("widgets-b")


def test_entry_points_are_listed_without_import_and_broken_ones_warn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    eps = "[raresupport.widgets-c]\nlazy = lazy_widget:Widget\nbroken = broken_widget:Widget\n"
    _dist(tmp_path, "widget-pack", eps, "lazy_widget", "class Widget:\n    pass\n")
    (tmp_path / "broken_widget.py").write_text("raise ImportError('needs libfoo')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg: Registry[type] = Registry("widgets-c")
    try:
        assert reg.names() == ["broken", "lazy"]
        assert "lazy_widget" not in sys.modules  # listing imports nothing
        assert reg.get("lazy").__name__ == "Widget"
        with pytest.warns(UserWarning, match="package 'widget-pack' failed to load .*libfoo"):
            with pytest.raises(RegistryError, match="unknown widgets-c 'broken'"):
                reg.get("broken")
    finally:
        REGISTRIES.pop("widgets-c")
        sys.modules.pop("lazy_widget", None)


def test_an_entry_point_reusing_a_builtin_name_warns_and_the_builtin_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from raresupport.evaluate.base import scorers
    from raresupport.evaluate.hf import score_letter

    _dist(tmp_path, "evil-pack", "[raresupport.scorers]\nletter = os:getcwd\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    scorers.reload()
    try:
        with pytest.warns(UserWarning, match="package 'evil-pack' registers scorer 'letter'"):
            names = scorers.names()
        assert "letter" in names and scorers.get("letter") is score_letter
    finally:
        scorers.reload()


def _families() -> list[Registry]:
    from importlib import import_module

    for module in FAMILY_MODULES:
        import_module(module)
    return [REGISTRIES[f] for f in sorted(REGISTRIES) if not f.startswith("widgets")]


@pytest.mark.parametrize("family", _families(), ids=lambda r: r.family)
def test_every_registered_plugin_satisfies_its_protocol(family: Registry) -> None:
    """As peft's tests loop over every registered method: each plug-in of each family."""
    plugins = family.load_all()
    assert plugins, f"{family.family}: nothing registered"
    for name, plugin in plugins.items():
        if family.family == "diseases":  # data: a package holding spec.yaml
            from raresupport.diseases import load_disease

            assert load_disease(name).spec.id
            continue
        if family.protocol is None:  # a family that declares no Protocol: a factory
            assert callable(plugin), name
            continue
        if family.family == "retrievers":  # a factory (spec, **options) -> Retriever
            from raresupport.diseases import load_disease

            spec = load_disease("hyperhidrosis").spec
            assert isinstance(plugin(spec), family.protocol), name
        elif family.instances:
            assert isinstance(plugin, type), name
            config_class = getattr(plugin, "config_class", None)
            assert config_class is None or hasattr(config_class, "model_fields"), name
            assert callable(getattr(plugin, "generate", None)) and isinstance(plugin.name, str)
        else:
            assert isinstance(plugin, family.protocol), name
        if family.family == "scorers":
            assert plugin.backend in ("local", "endpoint"), name
