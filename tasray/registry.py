"""A tiny name → object registry, shared by model families, costs and pruning methods (timm style)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from tasray.errors import TasrayError

T = TypeVar("T")


class UnknownNameError(TasrayError, KeyError):
    """Raised for a name that is not registered; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Registry(Generic[T]):
    """Maps names to objects. `register` is a decorator, `add` a call; `get` raises a listing error.

    Args:
        kind: what the entries are, for error messages ("model", "cost", "method").
        load: called once, before the first lookup, to import the modules that register the
            built-in entries (their imports may depend on modules that import this registry).
    """

    def __init__(self, kind: str, load: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._load = load

    def _loaded(self) -> dict[str, T]:
        if self._load is not None:
            load, self._load = self._load, None
            load()
        return self._entries

    def add(self, name: str, obj: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = obj
        return obj

    def register(self, name: str | None = None) -> Callable[[T], T]:
        def add(obj: T) -> T:
            return self.add(name or obj.__name__, obj)  # type: ignore[attr-defined]

        return add

    def remove(self, name: str) -> None:
        """Unregister `name` (tests register toy entries and take them out again)."""
        del self._entries[name]

    def get(self, name: str) -> T:
        try:
            return self._loaded()[name]
        except KeyError:
            known = ", ".join(sorted(self._entries))
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        return sorted(self._loaded())

    def values(self) -> list[T]:
        return [self._loaded()[name] for name in self.names()]

    def __contains__(self, name: str) -> bool:
        return name in self._loaded()
