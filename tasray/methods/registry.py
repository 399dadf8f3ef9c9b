"""The method registry: one entry per pruning method carries everything about it.

A method turns a trained teacher into an ArchSpec (plus, for `init` transfer, the teacher filters
each conv keeps); every method's spec then goes through the same retraining, which is what makes
the leaderboard an apples-to-apples comparison. The experiment schema's `baselines:` entries, the
results schema's method list, the labels, `validate`'s summary and the report's method groups are
all read from here.

Adding a method is one file that calls `register_method(Method(...))`, plus its module name in
`BUILTIN_MODULES` (or, from another package, an entry point in the ``tasray.methods`` group). This
module imports nothing of the engine: the config schema reads it, and the method modules, which
import the engine, are loaded on the first lookup.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from tasray.registry import Registry

BUILTIN_MODULES = (
    "tasray.methods.tas",
    "baselines.fixed_ratio",
    "baselines.random_search",
    "baselines.channel_pruning",
)
ENTRY_POINT_GROUP = "tasray.methods"


@dataclass(frozen=True)
class Method:
    """A pruning method.

    Args:
        name: its id in experiment files and results rows, e.g. ``fixed_ratio``.
        run: ``run(context: MethodContext) -> MethodResult`` (`tasray.methods.context`).
        label: its display name, e.g. ``fixed ratio``.
        searches: True for the TAS search and its variants: their trials come from the sweep, their
            settings from the ``search`` section, and their rows carry the search's history.
        config: the pydantic model of the method's ``baselines:`` entry (a subclass of
            `tasray.config.BaselineSection`); None for methods set up by the ``search`` section.
        describe: one line on what a configured entry does, for ``tasray validate``.
    """

    name: str
    run: Callable[[Any], Any]
    label: str
    searches: bool = False
    config: type | None = None
    describe: Callable[[Any], str] | None = None

    def __post_init__(self) -> None:
        if (self.config is None) != self.searches:
            raise ValueError(f"method {self.name!r}: a searching method has no config; any other has one")


def _load_builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        entry.load()


METHODS: Registry[Method] = Registry("method", load=_load_builtins)


def register_method(method: Method) -> Method:
    """Add `method` to the registry under its name."""
    return METHODS.add(method.name, method)


def baseline_methods() -> list[Method]:
    """Methods configured by a ``baselines:`` entry, by name."""
    return [m for m in METHODS.values() if m.config is not None]


def search_methods() -> list[Method]:
    """The TAS search and its variants."""
    return [m for m in METHODS.values() if m.searches]


def method_label(name: str) -> str:
    """Display name of a method id (``tas_w`` -> ``TAS (W)``); an unknown id is shown as is."""
    return METHODS.get(name).label if name in METHODS else name
