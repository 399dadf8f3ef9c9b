"""Which rows may be compared: those of one data set, one model, one input shape and one class
count. Leaderboards and report sections are drawn per such group, never across them."""

from __future__ import annotations

import json
from functools import cache

import pandas as pd


@cache
def geometry(arch: str) -> str:
    """The input shape and class count of a row's ArchSpec JSON, e.g. ``3×32×32, 10 classes``."""
    spec = json.loads(arch)
    height, width = spec["input_size"]
    return f"{spec['in_channels']}×{height}×{width}, {spec['num_classes']} classes"


def comparable_groups(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(title, rows) for every data set, model and geometry of `frame`, sorted. The title is
    ``data set · model``, followed by the geometry where that data set and model come in several."""
    frame = frame.assign(geometry=frame["arch"].map(geometry))
    shapes = frame.groupby(["data_set", "model"])["geometry"].nunique()
    groups = []
    for (data_set, model, shape), rows in frame.groupby(["data_set", "model", "geometry"], sort=True):
        title = f"{data_set} · {model}" + (f" · {shape}" if shapes[data_set, model] > 1 else "")
        groups.append((title, rows))
    return groups
