"""`write_report`: a Markdown report with PNG figures from a results store.

The report is drawn in a hidden staging folder in the output's nearest existing folder and only then
moved into place, so a failure leaves no half-written report, and no new folder, behind.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa

from tasray.errors import TasrayError
from tasray.methods import method_label, search_methods
from tasray.plural import plural
from tasray.results import plots
from tasray.results.groups import comparable_groups
from tasray.results.latency_section import latency_section
from tasray.results.leaderboard import (
    REFERENCE_MARGIN,
    build_leaderboards,
    dominated_by,
    hypervolume,
    pareto_mask,
    reference_point,
)
from tasray.results.leaderboard_render import (
    format_flops,
    format_percent,
    leaderboard_markdown,
    markdown_table,
)
from tasray.results.published import load_published
from tasray.results.store import read_results
from tasray.spec.arch import ArchSpec

REPORT_NAME = "report.md"
CONVENTIONS = (
    "FLOPs are multiply-accumulates (MACs) of one image, the convention of the TAS paper, written "
    "in millions (the paper's 2.24E7 is 22.40M), as parameters are; "
    '"pruned" is the share of the unpruned FLOPs removed (the paper\'s prune ratio). '
    "Accuracies are test-set percentages; drop = teacher top-1 − top-1."
)


def write_report(source: str | Path, out: str | Path) -> Path:
    """Write ``report.md`` and its PNG figures for every result under `source` into `out`.

    The report is drawn in the nearest folder that exists already, and `out` (with any missing
    parents) is created only once it is complete: a failure leaves no new folder behind.
    """
    table = read_results(source)
    if table.num_rows == 0:
        raise TasrayError(f"no results under {source}; nothing to report")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise TasrayError(f"--out {out} is a file; give a folder for the report")
    existing = next(folder for folder in out.absolute().parents if folder.is_dir())
    staging = Path(tempfile.mkdtemp(prefix=".tasray-report-", dir=existing))
    try:
        text = render_report(table, str(source), staging)
        (staging / REPORT_NAME).write_text(text, encoding="utf-8")
        out.mkdir(parents=True, exist_ok=True)
        for item in staging.iterdir():
            os.replace(item, out / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out / REPORT_NAME


def render_report(table: pa.Table, source: str, folder: Path) -> str:
    """The report's Markdown; figures are saved into `folder` and linked relatively."""
    frame = table.to_pandas()
    runs = frame["experiment_id"].nunique()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        "# tasray report",
        f"Source: `{source}` · {plural(len(frame), 'trial')} in {plural(runs, 'run')} · generated {stamp}.",
        CONVENTIONS,
        "## Leaderboard",
        "Rows are grouped by FLOP ratio (10-point buckets of the unpruned FLOPs kept) and sorted "
        "by top-1 inside each; the best top-1 of each bucket is in bold. A configuration run with "
        "several seeds is one row: its mean ± std top-1 over the seeds.",
        leaderboard_markdown(build_leaderboards(table), heading="###").rstrip(),
    ]
    groups = comparable_groups(frame)
    section_builders: list[tuple[str, Callable]] = [
        ("Measured vs. published", _published_section),
        ("Accuracy vs. FLOPs", _accuracy_section),
        ("Search trajectories", _trajectory_section),
        ("Widths of the best pruned networks", _widths_section),
        ("Measured latency", latency_section),
        ("Effect of R, λ_cost and |I|", _sweep_section),
    ]
    for heading, builder in section_builders:
        sections.append(f"## {heading}")
        for title, rows in groups:
            sections.append(f"### {title}")
            sections.append(builder(rows, folder, title, _slug(*title.split(" · "))))
    return "\n\n".join(sections) + "\n"


def _slug(*parts: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9_.]+", "_", part) for part in parts)


def _published_section(rows: pd.DataFrame, folder: Path, title: str, slug: str) -> str:
    published = _published_of(rows)
    headers = ["source", "method", "transfer", "top-1", "drop", "FLOPs", "pruned"]
    table_rows = [
        [
            "measured",
            method_label(r["method"]),
            r["transfer"],
            format_percent(r["top1"]),
            format_percent(r["accuracy_drop"]),
            format_flops(r["flops"]),
            format_percent(100 * r["prune_ratio"], 1),
        ]
        for _, r in rows.sort_values(["flops", "top1"], ascending=False).iterrows()
    ]
    table_rows += [
        [
            f"published (paper, Table {r['table']})",
            r["label"],
            "kd" if r["method"] in searching_methods() else "–",
            format_percent(r["top1"]),
            format_percent(r["top1_drop"]),
            format_flops(r["flops"]),
            format_percent(r["prune_ratio"], 1),
        ]
        for _, r in published.iterrows()
    ]
    table = markdown_table(headers, table_rows, [False, False, False, True, True, True, True])
    if published.empty:
        return table + "\n\nThe paper reports no numbers for this data set and model."
    return table


def _published_of(rows: pd.DataFrame) -> pd.DataFrame:
    data_set, model = rows["data_set"].iloc[0], rows["model"].iloc[0]
    published = load_published().to_pandas()
    return published[(published["data_set"] == data_set) & (published["model"] == model)]


def _accuracy_section(rows: pd.DataFrame, folder: Path, title: str, slug: str) -> str:
    name = f"accuracy_vs_flops-{slug}.png"
    plots.plot_accuracy_vs_flops(rows, _published_of(rows), folder / name, title)
    return f"![accuracy vs FLOPs, {title}]({name})\n\n{fronts_markdown(rows)}"


def fronts_markdown(rows: pd.DataFrame) -> str:
    """Each method's accuracy-vs-FLOPs front and its hypervolume, and TAS's front against the
    baselines' points, all against one reference a little beyond the worst pruned point of any method."""
    pruned = rows[rows["method"] != "unpruned"]
    if pruned.empty:
        return "No pruned trials."
    reference = reference_point(pruned["flop_ratio"].to_numpy(), pruned["top1"].to_numpy())
    table_rows = []
    for method, group in pruned.groupby("method", sort=True):
        ratios, top1 = group["flop_ratio"].to_numpy(), group["top1"].to_numpy()
        front = group[pareto_mask(ratios, top1)].sort_values("flop_ratio")
        pairs = zip(front["flop_ratio"], front["top1"], strict=True)
        points = ", ".join(f"{100 * r:.1f}% → {t:.2f}%" for r, t in pairs)
        volume = hypervolume(ratios, top1, reference)
        table_rows.append([method_label(method), str(len(group)), points, f"{volume:.3f}"])
    headers = ["method", "trials", "front (FLOPs kept → top-1)", "hypervolume"]
    lines = [markdown_table(headers, table_rows, [False, True, False, True])]
    searched = pruned["method"].isin(searching_methods())
    tas, baselines = pruned[searched], pruned[~searched]
    if len(tas) and len(baselines):
        tas_points = (tas["flop_ratio"].to_numpy(), tas["top1"].to_numpy())
        base_points = (baselines["flop_ratio"].to_numpy(), baselines["top1"].to_numpy())
        dominated = int(dominated_by(*base_points, *tas_points).sum())
        tas_volume, base_volume = hypervolume(*tas_points, reference), hypervolume(*base_points, reference)
        lines.append(
            f"TAS's front: hypervolume {tas_volume:.3f} against {base_volume:.3f} for the baselines' "
            f"points; it dominates {dominated} of {plural(len(baselines), 'baseline point')}."
        )
    lines.append(
        f"Hypervolume: the area of (FLOP ratio, top-1 in points) a front dominates, up to the reference "
        f"FLOP ratio {reference[0]:.3f} and top-1 {reference[1]:.2f}%: the worst ratio and the lowest "
        f"top-1 of any pruned trial, each moved {REFERENCE_MARGIN:.0%} of its spread beyond, so every "
        "method's front covers some area; larger is better."
    )
    return "\n\n".join(lines)


def _trajectory_section(rows: pd.DataFrame, folder: Path, title: str, slug: str) -> str:
    searched = rows[rows["search_history"].map(len) > 0]
    if searched.empty:
        return "No trial of this data set and model recorded a search history."
    name = f"search_trajectories-{slug}.png"
    plots.plot_search_trajectories(searched, folder / name, f"TAS search, {title}")
    return f"![search trajectories, {title}]({name})"


def _widths_section(rows: pd.DataFrame, folder: Path, title: str, slug: str) -> str:
    pruned = rows[rows["method"] != "unpruned"]
    if pruned.empty:
        return "No pruned network yet."
    best = pruned.sort_values("top1", ascending=False).groupby("method", sort=True).head(1)
    archs = [
        (
            f"{method_label(r['method'])} {r['trial_id']}: top-1 {r['top1']:.2f}%, "
            f"{format_flops(r['flops'])} FLOPs",
            ArchSpec.from_json(r["arch"]),
            r["method"],
        )
        for _, r in best.sort_values("top1", ascending=False).iterrows()
    ]
    name = f"arch_widths-{slug}.png"
    plots.plot_arch_widths(archs, folder / name)
    return f"The best network of each method.\n\n![widths per conv, {title}]({name})"


def _sweep_section(rows: pd.DataFrame, folder: Path, title: str, slug: str) -> str:
    searched = rows[rows["method"].isin(searching_methods())]
    if searched.empty:
        return "No TAS trial for this data set and model."
    name = f"sweep-{slug}.png"
    plots.plot_sweep(searched, folder / name, f"TAS sweep, {title}")
    ordered = searched.sort_values(["target_ratio", "lambda_cost", "num_selected", "trial_id"])
    table = markdown_table(
        ["trial", "method", "R", "λ_cost", "|I|", "FLOP ratio", "top-1"],
        [
            [
                r["trial_id"],
                method_label(r["method"]),
                _number(r["target_ratio"]),
                _number(r["lambda_cost"]),
                _number(r["num_selected"]),
                f"{r['flop_ratio']:.3f}",
                format_percent(r["top1"]),
            ]
            for _, r in ordered.iterrows()
        ],
        [False, False, True, True, True, True, True],
    )
    return f"![sweep, {title}]({name})\n\n{table}"


def _number(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:g}"


def searching_methods() -> list[str]:
    """The ids of the TAS search and its variants (their rows carry a search history)."""
    return [m.name for m in search_methods()]
