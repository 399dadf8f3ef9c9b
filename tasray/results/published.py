"""The paper's published numbers (Tables 3 and 4 of Dong & Yang, 2019), shipped as `published.csv`.

Columns: ``table`` (3 or 4), ``data_set``, ``model``, ``method`` (a short id: ours are ``tas``,
``tas_w``, ``tas_d``), ``label`` (the paper's name with its citation), ``top1``/``top5`` and their
``*_drop`` (percent, null where the paper has "-"), ``flops`` (MACs) and ``prune_ratio`` (percent of
the unpruned FLOPs *removed*, as printed in the paper). `load_published` adds ``flop_ratio``.
"""

from __future__ import annotations

from importlib import resources

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

PUBLISHED_TYPES = {
    "table": pa.int8(),
    "data_set": pa.string(),
    "model": pa.string(),
    "method": pa.string(),
    "label": pa.string(),
    "top1": pa.float64(),
    "top1_drop": pa.float64(),
    "top5": pa.float64(),
    "top5_drop": pa.float64(),
    "flops": pa.float64(),
    "prune_ratio": pa.float64(),
}


def load_published() -> pa.Table:
    """All published rows, with ``flop_ratio`` (kept FLOPs / unpruned FLOPs, 0..1) added."""
    source = resources.files("tasray.results").joinpath("published.csv")
    with source.open("rb") as handle:
        table = pacsv.read_csv(handle, convert_options=pacsv.ConvertOptions(column_types=PUBLISHED_TYPES))
    kept = pc.subtract(1.0, pc.divide(table["prune_ratio"], 100.0))
    return table.append_column("flop_ratio", kept)


def published_for(data_set: str, model: str) -> pa.Table:
    """The published rows of one (data set, model); empty if the paper has none."""
    table = load_published()
    mask = pc.and_(pc.equal(table["data_set"], data_set), pc.equal(table["model"], model))
    return table.filter(mask)
