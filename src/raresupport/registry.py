"""One small registry for every plug-in family (diseases, generators, trainers, scorers).

Built-ins register with a decorator; third parties add entry points in the group
``raresupport.<family>``, loaded lazily on the first lookup that misses.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from raresupport.errors import RegistryError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> plug-in mapping with entry-point discovery.

    Args:
        family: plural noun used in messages and in the entry-point group name.
    """

    def __init__(self, family: str) -> None:
        self.family = family
        self.group = f"raresupport.{family}"
        self._items: dict[str, T] = {}
        self._entry_points_loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@generators.register("grounded")``."""

        def deco(obj: T) -> T:
            self.add(name, obj)
            return obj

        return deco

    def add(self, name: str, obj: T) -> None:
        self._items[name] = obj

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in entry_points(group=self.group):
            if ep.name not in self._items:
                self._items[ep.name] = ep.load()

    def reload(self) -> None:
        """Forget which entry points were seen (after installing a plug-in at run time)."""
        self._entry_points_loaded = False

    def get(self, name: str) -> T:
        if name not in self._items:
            self._load_entry_points()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names()) or "(none)"
            raise RegistryError(f"unknown {self.family[:-1]} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self.names()
