"""One registry mechanism for every plug-in family (diseases, generators, scorers, models, ...).

Built-ins register with a decorator in the module that defines them; the registry imports those
modules (``builtins``) on the first lookup, so listing names stays cheap and torch stays out of
``--help``. Third parties add entry points in the group ``raresupport.<family>``: they are listed
by name without being imported, and loaded on first use. A name is owned by one plug-in: a second
registration under the same name raises :class:`RegistryError`; an entry point that reuses a
built-in name, or fails to import, becomes a warning naming its package (one broken third-party
package must not take the CLI down).

Example::

    scorers: Registry[Scorer] = Registry("scorers", protocol=Scorer,
                                         builtins=("raresupport.evaluate.hf",))

    @scorers.register("letter")
    def score_letter(backend, items, **kw): ...
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from importlib import import_module
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar

from raresupport.errors import RegistryError

T = TypeVar("T")

#: family name -> its Registry; every family registers itself here when created
REGISTRIES: dict[str, Registry[Any]] = {}


def _identity(obj: Any) -> tuple[str, str]:
    """What makes two registrations "the same plug-in" (a module reload re-registers)."""
    return (getattr(obj, "__module__", ""), getattr(obj, "__qualname__", repr(obj)))


def _package(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    name = getattr(dist, "name", None) or getattr(dist, "metadata", {}).get("Name", None)
    return f"package {name!r}" if name else f"module {ep.value!r}"


class Registry(Generic[T]):
    """Name -> plug-in mapping with lazy built-ins and lazy entry-point discovery.

    Args:
        family: plural noun used in messages and in the entry-point group name.
        protocol: the Protocol (or base class) every plug-in of this family satisfies; the
            test suite checks each registered plug-in against it.
        builtins: modules that register the built-in plug-ins, imported on first lookup.
        instances: True when plug-ins are classes whose *instances* satisfy ``protocol``.
    """

    def __init__(
        self,
        family: str,
        *,
        protocol: Any = None,
        builtins: Iterable[str] = (),
        instances: bool = False,
    ) -> None:
        if family in REGISTRIES:
            raise RegistryError(f"plug-in family {family!r} already exists")
        self.family = family
        self.group = f"raresupport.{family}"
        self.protocol = protocol
        self.instances = instances
        self._builtins = tuple(builtins)
        self._builtins_loaded = not self._builtins
        self._items: dict[str, T] = {}
        self._entry_points: dict[str, EntryPoint] | None = None
        self._from_entry_points: set[str] = set()
        REGISTRIES[family] = self

    @property
    def singular(self) -> str:
        return self.family[:-1] if self.family.endswith("s") else self.family

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@generators.register("grounded")``."""

        def deco(obj: T) -> T:
            self.add(name, obj)
            return obj

        return deco

    def add(self, name: str, obj: T) -> None:
        """Register ``obj`` as ``name``.

        Raises:
            RegistryError: ``name`` already belongs to another plug-in of this family.
        """
        old = self._items.get(name)
        if old is not None and old is not obj and _identity(old) != _identity(obj):
            raise RegistryError(
                f"{self.singular} name {name!r} is taken by {_identity(old)[0]}."
                f"{_identity(old)[1]}; choose another name for {_identity(obj)[1]}"
            )
        self._items[name] = obj

    def remove(self, name: str) -> None:
        """Forget ``name`` (tests that register temporary plug-ins clean up with this)."""
        self._items.pop(name, None)
        self._from_entry_points.discard(name)

    def _load_builtins(self) -> None:
        if self._builtins_loaded:
            return
        self._builtins_loaded = True
        for module in self._builtins:
            import_module(module)

    def _third_party(self) -> dict[str, EntryPoint]:
        """Entry points by name, read once (not imported); a clash with a built-in warns."""
        if self._entry_points is None:
            self._load_builtins()
            self._entry_points = {}
            for ep in entry_points(group=self.group):
                if ep.name in self._items and ep.name not in self._from_entry_points:
                    warnings.warn(
                        f"{self.group}: {_package(ep)} registers {self.singular} {ep.name!r}, "
                        "which is a built-in name; the built-in is kept",
                        stacklevel=3,
                    )
                    continue
                self._entry_points.setdefault(ep.name, ep)
        return self._entry_points

    def reload(self) -> None:
        """Read entry points again (after installing a plug-in at run time)."""
        self._entry_points = None

    def _load(self, name: str) -> bool:
        ep = self._third_party().get(name)
        if ep is None:
            return False
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import failure of a third-party plug-in
            warnings.warn(
                f"{self.group}: {_package(ep)} failed to load {self.singular} {name!r} "
                f"({type(exc).__name__}: {exc}); it is skipped",
                stacklevel=3,
            )
            del self._third_party()[name]
            return False
        if name not in self._items:
            self._items[name] = obj
            self._from_entry_points.add(name)
        return True

    def get(self, name: str) -> T:
        """The plug-in registered as ``name``.

        Raises:
            RegistryError: unknown name; the message lists the known ones.
        """
        self._load_builtins()
        if name not in self._items:
            self._load(name)
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names()) or "(none)"
            raise RegistryError(f"unknown {self.singular} {name!r}; known: {known}") from None

    def load_all(self) -> dict[str, T]:
        """Every plug-in, third-party ones imported (broken ones warn and are left out)."""
        for name in list(self._third_party()):
            if name not in self._items:
                self._load(name)
        return dict(sorted(self._items.items()))

    def names(self) -> list[str]:
        """Sorted names of built-in and installed plug-ins (entry points are not imported)."""
        self._load_builtins()
        return sorted(set(self._items) | set(self._third_party()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def __repr__(self) -> str:
        return f"Registry({self.family!r}, {len(self._items)} loaded)"


def check_name(registry: Registry[Any], name: str) -> str:
    """Validator helper for configs: ``name`` if registered, else a ValueError listing names."""
    if name not in registry:
        known = ", ".join(registry.names())
        raise ValueError(f"unknown {registry.singular} {name!r}; known: {known}")
    return name
