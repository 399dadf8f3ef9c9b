"""One colour per method, the same in every figure: fixed by the method registry's order.

The searching methods (TAS and its variants) come first and take the strongest colours; the other
methods follow in the registry's (alphabetical) order, and the unpruned network is dark grey.
tab20's ten strong colours are used before its ten light ones, so neighbours stay distinct.
"""

from __future__ import annotations

from functools import cache

from matplotlib import colormaps
from matplotlib.colors import to_rgb

from tasray.methods.registry import METHODS

UNPRUNED_COLOR = (0.25, 0.25, 0.25)
PALETTE_SIZE = 20


def method_order() -> list[str]:
    """Every registered method id, searching methods first, each group in registry order."""
    names = METHODS.names()
    return [n for n in names if METHODS.get(n).searches] + [n for n in names if not METHODS.get(n).searches]


@cache
def method_colors() -> dict[str, tuple[float, float, float]]:
    """The colour of each registered method id (see the module docstring)."""
    palette = colormaps["tab20"]
    strong_first = [*range(0, PALETTE_SIZE, 2), *range(1, PALETTE_SIZE, 2)]
    return {name: to_rgb(palette(strong_first[i % PALETTE_SIZE])) for i, name in enumerate(method_order())}


def method_color(name: str) -> tuple[float, float, float]:
    """The colour of method `name` in every figure; the unpruned network (or an unknown id) is grey."""
    return method_colors().get(name, UNPRUNED_COLOR)


def shade(color: tuple[float, float, float], index: int, count: int) -> tuple[float, float, float]:
    """`color` lightened for the `index`-th of `count` curves of one method (the first unchanged),
    so trials of one method keep its hue but stay apart."""
    mix = 0.6 * index / max(count - 1, 1)
    return tuple(c + (1.0 - c) * mix for c in color)
