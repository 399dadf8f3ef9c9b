"""The leaderboard: results rows grouped per data set and model, like Table 3 of the paper.

Rows of different data sets, input shapes or class counts are never ranked together
(`tasray.results.groups`). Seeds of one configuration are one row, their mean ± std
(`tasray.results.seeds`), unless every seed is asked for. Accuracy only compares fairly between
nets of similar cost, so rows are grouped into cost-ratio buckets (10 points wide, of the cost
chosen by name, FLOPs by default) and sorted inside each bucket; the best row of each bucket is
flagged, and so is every row on the accuracy-vs-cost Pareto front of its group. The paper's
published rows of the same data set and model can ride along, unranked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from tasray.costs import COSTS
from tasray.errors import TasrayError
from tasray.results.groups import comparable_groups
from tasray.results.published import published_for
from tasray.results.seeds import mean_over_seeds, seed_rows

BUCKET_POINTS = 10  # width of a cost-ratio bucket, in percent of the unpruned network's cost
# The hypervolume's reference lies this share of each axis's spread beyond the worst point (of at
# least MIN_SPREAD: FLOP ratio, top-1 points), so the worst method's points still cover some area.
REFERENCE_MARGIN = 0.1
MIN_SPREAD = (0.1, 1.0)
# --sort name -> (column, ascending): better first for every key.
SORT_KEYS = {
    "top1": ("top1", False),
    "drop": ("accuracy_drop", True),
    "flops": ("flops", True),
    "params": ("params", True),
    "method": ("method", True),
    "latency": ("measured_latency_ms", True),
}


@dataclass(frozen=True)
class Leaderboard:
    """The ranked rows of one data set, model and geometry.

    `rows` holds the results columns (means over seeds, with ``seeds`` and ``top1_std``) plus
    ``bucket`` (lower edge of the cost-ratio bucket, in percent), ``ratio`` (the cost ratio the
    buckets use), ``pareto`` and ``best`` (the top row of its bucket), in display order; `cost`
    names the cost of the buckets; `published` holds the paper's rows of this data set and model
    (empty unless asked for).
    """

    data_set: str
    model: str
    rows: pd.DataFrame
    cost: str = "flops"
    title: str = ""
    published: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __post_init__(self) -> None:
        if not self.title:
            object.__setattr__(self, "title", f"{self.data_set} · {self.model}")


def check_choice(value: str, allowed: list[str] | tuple[str, ...], what: str) -> str:
    """`value` if it is one of `allowed`, else a `TasrayError` that lists them."""
    if value not in allowed:
        raise TasrayError(f"unknown {what} {value!r}; allowed: {', '.join(allowed)}")
    return value


def build_leaderboards(
    table: pa.Table,
    *,
    data_set: str | None = None,
    model: str | None = None,
    sort: str = "top1",
    cost: str = "flops",
    per_seed: bool = False,
    published: bool = False,
) -> list[Leaderboard]:
    """One `Leaderboard` per data set, model and geometry of `table`, optionally filtered to one
    data set and model; rows are bucketed by their ratio under `cost` (a registered cost's name); rows
    without one (written before that cost's column existed) are left out.

    Args:
        per_seed: one row per seed instead of one per configuration (mean ± std over its seeds).
        published: add the paper's rows of each data set and model (`Leaderboard.published`).
    """
    column, ascending = SORT_KEYS[check_choice(sort, list(SORT_KEYS), "sort column")]
    ratio_column = COSTS.get(check_choice(cost, COSTS.names(), "cost")).ratio_column
    frame = table.to_pandas()
    if ratio_column in frame:  # rows from before a cost's column existed have no ratio under it
        frame = frame[frame[ratio_column].notna()]
    if frame.empty:
        return []
    for name, value in (("data_set", data_set), ("model", model)):
        if value is not None:
            present = sorted(frame[name].unique())
            label = name.replace("_", " ")
            frame = frame[frame[name] == value]
            if frame.empty:
                raise TasrayError(f"no results for {label} {value!r}; present: {', '.join(present)}")
    boards = []
    for title, group in comparable_groups(frame):
        set_name, model_name = group["data_set"].iloc[0], group["model"].iloc[0]
        rows = seed_rows(group) if per_seed else mean_over_seeds(group)
        paper = published_for(set_name, model_name).to_pandas() if published else pd.DataFrame()
        ranked = rank(rows, column, ascending, ratio_column)
        boards.append(Leaderboard(set_name, model_name, ranked, cost, title, paper))
    return boards


def rank(group: pd.DataFrame, column: str, ascending: bool, ratio_column: str = "flop_ratio") -> pd.DataFrame:
    """`group` with bucket/pareto/best flags, costliest bucket first, sorted inside buckets."""
    rows = group.copy()
    rows["ratio"] = rows[ratio_column]
    rows["bucket"] = [flop_bucket(ratio) for ratio in rows["ratio"]]
    rows["pareto"] = pareto_mask(rows["ratio"].to_numpy(), rows["top1"].to_numpy())
    rows = rows.sort_values(
        ["bucket", column, "top1", "flops", "trial_id"],
        ascending=[False, ascending, False, True, True],
        na_position="last",
        kind="mergesort",
    ).reset_index(drop=True)
    best_in_bucket = rows.groupby("bucket")["top1"].idxmax()
    rows["best"] = rows.index.isin(best_in_bucket.to_numpy())
    return rows


def flop_bucket(ratio: float) -> int:
    """Lower edge, in percent, of the bucket of a cost ratio (0.55 -> 50)."""
    points = round(ratio * 100, 6)  # 0.3 * 100 is 30.000000000000004
    return int(math.floor(points / BUCKET_POINTS) * BUCKET_POINTS)


def bucket_label(bucket: int) -> str:
    """Human label of a bucket: ``50–60%`` (the unpruned net sits alone in ``100%``)."""
    return "100%" if bucket >= 100 else f"{bucket}–{bucket + BUCKET_POINTS}%"


def pareto_mask(flops: np.ndarray, top1: np.ndarray) -> np.ndarray:
    """True where no other row has <= FLOPs and >= top-1 with at least one strictly better."""
    return ~dominated_by(flops, top1, flops, top1)


def dominated_by(
    flops: np.ndarray, top1: np.ndarray, other_flops: np.ndarray, other_top1: np.ndarray
) -> np.ndarray:
    """True for each point that one of the other points dominates (<= FLOPs, >= top-1, one strictly)."""
    no_worse = (other_flops[None, :] <= flops[:, None]) & (other_top1[None, :] >= top1[:, None])
    better = (other_flops[None, :] < flops[:, None]) | (other_top1[None, :] > top1[:, None])
    return np.any(no_worse & better, axis=1)


def reference_point(flop_ratio: np.ndarray, top1: np.ndarray) -> tuple[float, float]:
    """The hypervolume's reference (FLOP ratio, top-1): a margin beyond the worst of each over all
    the points (the nadir), so that no method's front, the worst one's included, covers zero area."""
    ratio_margin = REFERENCE_MARGIN * max(float(np.ptp(flop_ratio)), MIN_SPREAD[0])
    top1_margin = REFERENCE_MARGIN * max(float(np.ptp(top1)), MIN_SPREAD[1])
    return float(flop_ratio.max()) + ratio_margin, float(top1.min()) - top1_margin


def hypervolume(flop_ratio: np.ndarray, top1: np.ndarray, reference: tuple[float, float]) -> float:
    """The area of the (FLOP ratio ↓, top-1 ↑) plane that the points dominate, up to `reference`
    (a FLOP ratio and a top-1, the worst corner); the larger, the better the front."""
    ref_ratio, ref_top1 = reference
    keep = (flop_ratio < ref_ratio) & (top1 > ref_top1)
    ratios, accuracies = flop_ratio[keep], top1[keep]
    front = pareto_mask(ratios, accuracies)
    area, below = 0.0, ref_top1
    for index in np.argsort(accuracies[front]):  # up the front: more top-1 costs more FLOPs
        area += (ref_ratio - ratios[front][index]) * (accuracies[front][index] - below)
        below = accuracies[front][index]
    return float(area)
