"""The report's latency section: the latency figures every row carries, beside its FLOPs.

Nothing is timed when the report is written: the figures are the ones the trials stored (schema
4), on the device of the experiment's latency table, which the section names. For each row: the
table's prediction and the measurement at the table's batch, the additivity error between them
(predicted / measured − 1), both ratios to the unpruned network, the measurement at batch 1, and
a ⚠ where the measurement's spread was too wide to trust.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tasray.costs.timing import MAX_SPREAD
from tasray.methods import method_label
from tasray.results.leaderboard_render import markdown_table

HEADERS = [
    "network",
    "cost",
    "FLOP ratio",
    "latency ratio, table",
    "measured",
    "ms, table",
    "measured",
    "additivity",
    "ms, batch 1",
    "ratio, batch 1",
    "",
]


def latency_section(rows: pd.DataFrame, folder: Path, title: str, slug: str) -> str:
    """A Markdown table of every pruned row's stored latency figures, and where they were measured."""
    pruned = rows[rows["method"] != "unpruned"]
    if "latency_ratio" in pruned:
        pruned = pruned[pruned["latency_ratio"].notna()]
    if pruned.empty:
        return "No row carries latency figures (they were added in schema version 4)."
    ordered = pruned.sort_values(["latency_ratio", "trial_id"])
    table_rows = [
        [
            f"{method_label(r['method'])} {r['trial_id']}",
            r["cost"] if isinstance(r["cost"], str) else "–",
            f"{r['flop_ratio']:.3f}",
            f"{r['latency_ratio']:.3f}",
            _number(r["measured_latency_ratio"], ".3f"),
            f"{r['predicted_latency_ms']:.3g}",
            _number(r["measured_latency_ms"], ".3g"),
            _additivity(r),
            _number(r["measured_latency_b1_ms"], ".3g"),
            _number(r["measured_latency_b1_ratio"], ".3f"),
            "⚠" if r["latency_spread"] > MAX_SPREAD else "",
        ]
        for _, r in ordered.iterrows()
    ]
    table = markdown_table(HEADERS, table_rows, [False, False] + [True] * 8 + [False])
    devices = ", ".join(
        f"{device}, batch {int(batch)}"
        for device, batch in dict.fromkeys(
            zip(ordered["latency_device"], ordered["latency_batch"], strict=True)
        )
    )
    return (
        f"Forward latency stored with each row, on {devices}: the latency table's prediction and the "
        "network measured with the fixed protocol (the fastest of the timed runs) at the table's batch, "
        "each as a ratio to the unpruned network; additivity = predicted / measured − 1. ⚠: the "
        f"measurement's interquartile range exceeded {MAX_SPREAD:.0%} of its median (a busy machine)."
        f"\n\n{table}"
    )


def _number(value: float | None, spec: str) -> str:
    return "–" if value is None or pd.isna(value) else format(value, spec)


def _additivity(row: pd.Series) -> str:
    measured = row["measured_latency_ms"]
    if measured is None or pd.isna(measured):
        return "–"
    return f"{row['predicted_latency_ms'] / measured - 1:+.1%}"
