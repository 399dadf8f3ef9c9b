"""Rows of one configuration run with several seeds, summarised as one: the mean and sample
standard deviation of top-1, the means of the costs, and how many seeds there are.

A configuration is a row's ``setup_hash`` (its trial key without the seed); a row written before
that column existed stands alone.
"""

from __future__ import annotations

import pandas as pd

MEAN_COLUMNS = (
    "top1",
    "top5",
    "accuracy_drop",
    "flop_ratio",
    "prune_ratio",
    "cost_ratio",
    "latency_ratio",
    "measured_latency_ms",
    "measured_latency_ratio",
)
COUNT_COLUMNS = ("flops", "params")  # averaged, then rounded: counts stay whole numbers


def configuration(rows: pd.DataFrame) -> pd.Series:
    """Each row's configuration: its setup hash, or its own experiment and trial id."""
    alone = rows["experiment_id"] + "/" + rows["trial_id"]
    return rows["setup_hash"].fillna(alone) if "setup_hash" in rows else alone


def seed_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` as they are, with the summary's columns: one seed each, no spread."""
    return rows.assign(seeds=1, top1_std=float("nan"))


def mean_over_seeds(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: the first row's settings, the means of `MEAN_COLUMNS` and
    `COUNT_COLUMNS`, ``top1_std`` (sample standard deviation; NaN for
    one seed), ``seeds`` (rows), ``in_band`` (every seed in band; null without a target), and the
    trial and experiment ids joined."""
    summaries = []
    for _, group in rows.groupby(configuration(rows), sort=False):
        summary = group.iloc[0].copy()
        for column in (c for c in MEAN_COLUMNS if c in group):
            summary[column] = pd.to_numeric(group[column], errors="coerce").mean()
        for column in COUNT_COLUMNS:
            summary[column] = round(group[column].mean())
        summary["top1_std"] = group["top1"].std(ddof=1)
        summary["seeds"] = len(group)
        bands = group["in_band"].dropna()
        summary["in_band"] = bool(bands.all()) if len(bands) else None
        for column in ("trial_id", "experiment_id"):
            summary[column] = ", ".join(dict.fromkeys(group[column]))
        summaries.append(summary)
    return pd.DataFrame(summaries).reset_index(drop=True)
