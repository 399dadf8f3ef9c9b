"""The report's figures, drawn with matplotlib's Agg renderer (no display needed) and saved as PNG.

Each function takes results rows as a pandas DataFrame (columns of `SCHEMA`) and writes one file.
Figures are built with `matplotlib.figure.Figure`, not pyplot, so no global state is touched. A
method has the same colour in every figure (`tasray.results.colors`); epochs are whole numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tasray.methods import method_label
from tasray.results.colors import method_color, method_order, shade
from tasray.results.leaderboard import pareto_mask
from tasray.spec.arch import ArchSpec

DPI = 110
# Hyper-parameters of a TAS sweep: (column, axis label).
SWEPT = (
    ("target_ratio", "target R (of the trial's cost)"),
    ("lambda_cost", "λ_cost"),
    ("num_selected", "|I|"),
)
PANEL_SIZE = (3.4, 2.8)  # inches per sweep panel
LEGEND_INCHES = 1.5  # beside the sweep's panels


def _save(figure: Figure, path: Path, legend_inches: float = 0.0) -> Path:
    """Lay `figure` out (leaving `legend_inches` on the right for a figure legend) and save it."""
    figure.tight_layout(rect=(0, 0, 1 - legend_inches / figure.get_figwidth(), 1))
    figure.savefig(path, dpi=DPI)
    return path


def _in_method_order(methods: list[str]) -> list[str]:
    """`methods` in the registry's order (the legend's order in every figure), unknown ids last."""
    order = method_order()
    return sorted(methods, key=lambda m: (order.index(m) if m in order else len(order), m))


def plot_accuracy_vs_flops(rows: pd.DataFrame, published: pd.DataFrame, path: Path, title: str) -> Path:
    """Top-1 vs FLOPs per trial, each method's Pareto front as a step line, paper rows hollow."""
    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    for method in _in_method_order(list(rows["method"].unique())):
        group = rows[rows["method"] == method]
        flops, top1 = group["flops"].to_numpy() / 1e6, group["top1"].to_numpy()
        color = method_color(method)
        axes.scatter(flops, top1, color=color, label=method_label(method), zorder=3)
        front = pareto_mask(flops, top1)
        order = np.argsort(flops[front])
        axes.step(flops[front][order], top1[front][order], where="post", color=color, alpha=0.7)
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
    """Per TAS trial and epoch: the cost ratio of the derived (and expected) arch against its band
    (1 ± t)·R, the selected epoch starred, and the mean discrepancy; colour = method, shade = trial."""
    figure = Figure(figsize=(10, 4))
    ratio_axes, discrepancy_axes = figure.subplots(1, 2)
    counts = rows["method"].value_counts()
    seen: dict[str, int] = {}
    for _, row in rows.iterrows():
        history = pd.DataFrame(list(row["search_history"]))
        method = row["method"]
        color = shade(method_color(method), seen.setdefault(method, 0), int(counts[method]))
        seen[method] += 1
        derived, expected = _cost_curves(history)
        cost = row["cost"] if isinstance(row["cost"], str) else "flops"
        label = f"{row['trial_id']} ({method_label(method)}, {cost})"
        ratio_axes.plot(history["epoch"], derived, color=color, label=label)
        ratio_axes.plot(history["epoch"], expected, color=color, linestyle="--", alpha=0.6)
        if pd.notna(row["target_ratio"]):
            ratio_axes.axhline(row["target_ratio"], color=color, linestyle=":", alpha=0.6)
            if pd.notna(row["tolerance"]):
                low, high = (row["target_ratio"] * (1 + sign * row["tolerance"]) for sign in (-1, 1))
                ratio_axes.axhspan(low, high, color=color, alpha=0.12, linewidth=0)
        selected = history["epoch"] == row["selected_epoch"]
        ratio_axes.scatter(
            history["epoch"][selected],
            derived[selected],
            marker="*",
            s=140,
            color=color,
            edgecolors="black",
            linewidths=0.6,
            zorder=4,
        )
        discrepancy_axes.plot(history["epoch"], history["discrepancy"], color=color)
    ratio_axes.set_title(
        "cost ratio: derived (solid), expected (dashed), R (dotted), (1 ± t)·R (band), kept (★)",
        fontsize=8,
    )
    ratio_axes.set_xlabel("search epoch")
    ratio_axes.set_ylabel("cost / unpruned cost")
    discrepancy_axes.set_title("mean discrepancy (top-1 − top-2 probability)", fontsize=9)
    discrepancy_axes.set_xlabel("search epoch")
    discrepancy_axes.set_ylabel("discrepancy")
    for axes in (ratio_axes, discrepancy_axes):
        axes.grid(alpha=0.3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(rows) <= 12:
        ratio_axes.legend(fontsize=7)
    figure.suptitle(title)
    return _save(figure, path)


def _cost_curves(history: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per epoch, the derived and expected architecture's ratio under the trial's cost; rows from
    before costs (schema 2) have only FLOPs, whose expected ratio shares the derived one's
    unpruned reference (flops / flop_ratio)."""
    if "cost_ratio" in history and history["cost_ratio"].notna().all():
        return history["cost_ratio"], history["expected_cost_ratio"]
    full = (history["flops"] / history["flop_ratio"]).replace([np.inf], np.nan)
    return history["flop_ratio"], history["expected_flops"] / full


def plot_arch_widths(archs: list[tuple[str, ArchSpec, str]], path: Path) -> Path:
    """Per conv: the unpruned width (grey) and the kept width (the method's colour) of each
    (label, spec, method); dropped blocks show 0."""
    figure = Figure(figsize=(10, 2.6 * len(archs)))
    for axes, (label, spec, method) in zip(np.atleast_1d(figure.subplots(len(archs), 1)), archs, strict=True):
        full = np.array(spec.family.max_widths())
        kept = np.array(spec.widths) * used_convs(spec)
        positions = np.arange(len(full))
        axes.bar(positions, full, color="0.85", label="unpruned")
        axes.bar(positions, kept, color=method_color(method), label="kept")
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
    """Top-1 and final cost ratio against each hyper-parameter the rows vary (R, λ_cost, |I|):
    one column of panels per hyper-parameter with two values or more (else R alone), the figure
    sized to that many columns."""
    swept = [(name, label) for name, label in SWEPT if rows[name].nunique() > 1] or [SWEPT[0]]
    figure = Figure(figsize=(PANEL_SIZE[0] * len(swept) + LEGEND_INCHES, 2 * PANEL_SIZE[1]))
    grid = figure.subplots(2, len(swept), squeeze=False)
    ratios = rows["cost_ratio"].fillna(rows["flop_ratio"])  # rows from before costs: FLOPs
    for column, (name, label) in enumerate(swept):
        present = rows.dropna(subset=[name])
        for row_index, (metric, metric_label) in enumerate(
            ((rows["top1"], "top-1 (%)"), (ratios, "cost ratio (the trial's cost)"))
        ):
            axes: Axes = grid[row_index, column]
            for method in _in_method_order(list(present["method"].unique())):
                group = present[present["method"] == method]
                axes.scatter(
                    group[name], metric[group.index], color=method_color(method), label=method_label(method)
                )
            if present.empty:
                axes.text(0.5, 0.5, "not swept", ha="center", va="center", transform=axes.transAxes)
            elif name == "lambda_cost" and _spans_decades(present[name]):
                axes.set_xscale("log")
            if name == "num_selected":  # a few whole numbers: tick each, never 1.89 or 2.13
                axes.set_xticks(sorted(present[name].unique()))
            axes.margins(0.15)
            axes.set_xlabel(label)
            axes.set_ylabel(metric_label)
            axes.grid(alpha=0.3)
    handles, labels = grid[0, 0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="center right", fontsize=8)
    figure.suptitle(title)
    return _save(figure, path, legend_inches=LEGEND_INCHES)
