"""One registry mechanism for benchmarks, backends, probes, scoring modes and prompt templates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from medgauge.types import MedgaugeError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps a name to an object (usually a class or factory), registered with a decorator."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise MedgaugeError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        yield from sorted(self._items.items())

    def __contains__(self, name: object) -> bool:
        return name in self._items


def import_submodules(package: str, path: list[str]) -> None:
    """Import every module of a package so their ``@registry.register`` decorators run: adding a
    benchmark or a backend is then one new file.  Modules import their heavy dependencies
    lazily, so this stays cheap."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(path):
        importlib.import_module(f"{package}.{module.name}")
