"""The report's figures, drawn with matplotlib's Agg renderer (no display needed) and saved as PNG.

Each function takes results rows as a pandas DataFrame (columns of `SCHEMA`) and writes one file.
Figures are built with `matplotlib.figure.Figure`, not pyplot, so no global state is touched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tasray.methods import method_label
from tasray.results.leaderboard import pareto_mask
from tasray.spec.arch import ArchSpec

DPI = 110
# Hyper-parameters of a TAS sweep: (column, axis label).
SWEPT = (
    ("target_ratio", "target R (FLOP ratio)"),
    ("lambda_cost", "λ_cost"),
    ("num_selected", "|I|"),
)


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    return path


def _colors(methods: list[str]) -> dict[str, tuple]:
    palette = colormaps["tab10"]
    return {method: palette(i % 10) for i, method in enumerate(methods)}


def plot_accuracy_vs_flops(rows: pd.DataFrame, published: pd.DataFrame, path: Path, title: str) -> Path:
    """Top-1 vs FLOPs per trial, each method's Pareto front as a step line, paper rows hollow."""
    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    methods = sorted(rows["method"].unique())
    colors = _colors(methods)
    for method in methods:
        group = rows[rows["method"] == method]
        flops, top1 = group["flops"].to_numpy() / 1e6, group["top1"].to_numpy()
        axes.scatter(flops, top1, color=colors[method], label=method_label(method), zorder=3)
        front = pareto_mask(flops, top1)
        order = np.argsort(flops[front])
        axes.step(flops[front][order], top1[front][order], where="post", color=colors[method], alpha=0.7)
    shown = published.dropna(subset=["top1"])
    if not shown.empty:
        axes.scatter(
            shown["flops"] / 1e6,
            shown["top1"],
            facecolors="none",
            edgecolors="0.35",
            marker="D",
            label="published (paper)",
            zorder=2,
        )
        for _, row in shown.iterrows():
            axes.annotate(
                row["label"],
                (row["flops"] / 1e6, row["top1"]),
                fontsize=7,
                color="0.35",
                xytext=(3, 3),
                textcoords="offset points",
            )
    axes.set_xlabel("FLOPs (M multiply-accumulates)")
    axes.set_ylabel("top-1 accuracy (%)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return _save(figure, path)


def plot_search_trajectories(rows: pd.DataFrame, path: Path, title: str) -> Path:
    """Per TAS trial and epoch: FLOP ratio of the derived (and expected) arch, mean discrepancy."""
    figure = Figure(figsize=(10, 4))
    ratio_axes, discrepancy_axes = figure.subplots(1, 2)
    for index, (_, row) in enumerate(rows.iterrows()):
        history = pd.DataFrame(list(row["search_history"]))
        color = f"C{index % 10}"
        # expected FLOPs share the derived arch's unpruned reference: flops / flop_ratio
        full = (history["flops"] / history["flop_ratio"]).replace([np.inf], np.nan)
        label = f"{row['trial_id']} ({method_label(row['method'])})"
        ratio_axes.plot(history["epoch"], history["flop_ratio"], color=color, label=label)
        ratio_axes.plot(
            history["epoch"], history["expected_flops"] / full, color=color, linestyle="--", alpha=0.6
        )
        if pd.notna(row["target_ratio"]):
            ratio_axes.axhline(row["target_ratio"], color=color, linestyle=":", alpha=0.6)
        discrepancy_axes.plot(history["epoch"], history["discrepancy"], color=color)
    ratio_axes.set_title("FLOP ratio: derived (solid), expected (dashed), target R (dotted)", fontsize=9)
    ratio_axes.set_xlabel("search epoch")
    ratio_axes.set_ylabel("FLOPs / unpruned FLOPs")
    discrepancy_axes.set_title("mean discrepancy (top-1 − top-2 probability)", fontsize=9)
    discrepancy_axes.set_xlabel("search epoch")
    discrepancy_axes.set_ylabel("discrepancy")
    for axes in (ratio_axes, discrepancy_axes):
        axes.grid(alpha=0.3)
    if len(rows) <= 12:
        ratio_axes.legend(fontsize=7)
    figure.suptitle(title)
    return _save(figure, path)


def plot_arch_widths(archs: list[tuple[str, ArchSpec]], path: Path) -> Path:
    """Per conv: the unpruned width (grey) and the kept width (colour); dropped blocks show 0."""
    figure = Figure(figsize=(10, 2.6 * len(archs)))
    for axes, (label, spec) in zip(np.atleast_1d(figure.subplots(len(archs), 1)), archs, strict=True):
        full = np.array(spec.family.max_widths())
        kept = np.array(spec.widths) * used_convs(spec)
        positions = np.arange(len(full))
        axes.bar(positions, full, color="0.85", label="unpruned")
        axes.bar(positions, kept, color="C0", label="kept")
        axes.set_title(f"{label} — depths {list(spec.depths)}", fontsize=9)
        axes.set_xlabel("conv index (0 = stem)")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel("channels")
        axes.legend(fontsize=7, loc="upper left")
    return _save(figure, path)


def used_convs(spec: ArchSpec) -> np.ndarray:
    """1 for convs the pruned net computes, 0 for convs of blocks its depths drop."""
    family = spec.family
    used = np.zeros(family.num_convs, dtype=int)
    used[0] = 1
    for stage, depth in enumerate(spec.depths):
        for block in range(depth):
            for position in range(len(family.block_kernels)):
                used[family.conv_index(stage, block, position)] = 1
    return used


def _spans_decades(values: pd.Series) -> bool:
    """Whether positive `values` span at least a factor of 10 (then a log axis reads better)."""
    return bool((values > 0).all() and values.max() >= 10 * values.min())


def plot_sweep(rows: pd.DataFrame, path: Path, title: str) -> Path:
    """Top-1 and final FLOP ratio against each swept hyper-parameter (R, λ_cost, |I|)."""
    figure = Figure(figsize=(11, 6))
    grid = figure.subplots(2, len(SWEPT))
    colors = _colors(sorted(rows["method"].unique()))
    for column, (name, label) in enumerate(SWEPT):
        for row_index, (metric, metric_label) in enumerate(
            (("top1", "top-1 (%)"), ("flop_ratio", "FLOP ratio"))
        ):
            axes: Axes = grid[row_index, column]
            present = rows.dropna(subset=[name])
            for method, group in present.groupby("method"):
                axes.scatter(group[name], group[metric], color=colors[method], label=method_label(method))
            if present.empty:
                axes.text(0.5, 0.5, "not swept", ha="center", va="center", transform=axes.transAxes)
            elif name == "lambda_cost" and _spans_decades(present[name]):
                axes.set_xscale("log")
            if name == "num_selected":
                axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.set_xlabel(label)
            axes.set_ylabel(metric_label)
            axes.grid(alpha=0.3)
    handles, labels = grid[0, 0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="upper right", fontsize=8)
    figure.suptitle(title)
    return _save(figure, path)
