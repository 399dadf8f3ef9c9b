"""Leaderboards as a rich terminal table, a Markdown table, or CSV.

All three show the same columns, defined once in `DISPLAY_COLUMNS`. FLOPs are MACs written like the
paper ("2.24E7"); "pruned" is the paper's prune ratio, the share of the unpruned FLOPs removed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pandas as pd
import pyarrow as pa
from rich import box
from rich.console import Console
from rich.table import Table

from tasray.methods import method_label
from tasray.results.leaderboard import (
    Leaderboard,
    bucket_label,
    build_leaderboards,
    check_choice,
)

FORMATS = ("table", "markdown", "csv")
EMPTY_MESSAGE = "No results yet."


def format_flops(macs: float) -> str:
    """MACs in the paper's notation, e.g. 22400000 -> ``2.24E7``."""
    mantissa, exponent = f"{macs:.2E}".split("E")
    return f"{mantissa}E{int(exponent)}"


def format_percent(value: float | None, digits: int = 2) -> str:
    """A percentage, or an en dash for a missing value."""
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}f}%"


BEST_MARK, PARETO_MARK, OUT_OF_BAND_MARK = "★", "◆", "⚠"
LEGEND = (
    f"{BEST_MARK} best top-1 of its cost bucket · {PARETO_MARK} Pareto-optimal · "
    f"{OUT_OF_BAND_MARK} cost outside (1 ± t)·R"
)


def _marks(row: pd.Series) -> str:
    in_band = row.get("in_band")  # null for rows without a FLOP target (and files of schema 1)
    out_of_band = in_band is not None and not pd.isna(in_band) and not in_band
    return (
        (BEST_MARK if row["best"] else "")
        + (PARETO_MARK if row["pareto"] else "")
        + (OUT_OF_BAND_MARK if out_of_band else "")
    )


def _latency(row: pd.Series) -> str:
    """Measured latency at the latency table's batch, in ms (– for rows without it)."""
    value = row.get("measured_latency_ms")
    return "–" if value is None or pd.isna(value) else f"{value:.3g}"


# (header, cell text, right-aligned)
DISPLAY_COLUMNS: list[tuple[str, Callable[[pd.Series], str], bool]] = [
    ("kept", lambda r: bucket_label(r["bucket"]), False),
    ("method", lambda r: method_label(r["method"]), False),
    ("transfer", lambda r: r["transfer"], False),
    ("top-1", lambda r: format_percent(r["top1"]), True),
    ("drop", lambda r: format_percent(r["accuracy_drop"]), True),
    ("FLOPs", lambda r: format_flops(r["flops"]), True),
    ("pruned", lambda r: format_percent(100 * r["prune_ratio"], 1), True),
    ("params", lambda r: f"{r['params'] / 1e6:.3f}M", True),
    ("ms", lambda r: _latency(r), True),
    ("", _marks, False),
    ("trial", lambda r: r["trial_id"], False),
]
TOP1_INDEX = [header for header, _, _ in DISPLAY_COLUMNS].index("top-1")
# Raw values for CSV: machine-readable, no formatting.
CSV_COLUMNS = (
    "data_set",
    "model",
    "bucket",
    "method",
    "transfer",
    "top1",
    "top5",
    "accuracy_drop",
    "flops",
    "flop_ratio",
    "prune_ratio",
    "params",
    "latency_ratio",
    "measured_latency_ms",
    "measured_latency_ratio",
    "experiment_id",
    "trial_id",
    "in_band",
    "pareto",
    "best",
)


def rich_table(board: Leaderboard) -> Table:
    """A rich table of one leaderboard; bucket boundaries are section lines, best rows bold."""
    table = Table(
        title=board.title,
        title_style="bold",
        caption=LEGEND,
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 1),
        collapse_padding=True,
        pad_edge=False,
    )
    for header, _, right in DISPLAY_COLUMNS:
        # on a narrow terminal only the trial id folds; everything else stays on one line
        table.add_column(
            header,
            justify="right" if right else "left",
            no_wrap=header != "trial",
            overflow="fold",
            min_width=8 if header == "trial" else None,
        )
    previous = None
    for _, row in board.rows.iterrows():
        cells = [cell(row) for _, cell, _ in DISPLAY_COLUMNS]
        if row["bucket"] == previous:
            cells[0] = ""  # the bucket label heads its group, as depth does in the paper
        elif previous is not None:
            table.add_section()
        previous = row["bucket"]
        table.add_row(*cells, style="bold green" if row["best"] else None)
    return table


def render_leaderboard(
    table: pa.Table,
    console: Console,
    *,
    data_set: str | None = None,
    model: str | None = None,
    sort: str = "top1",
    cost: str = "flops",
) -> None:
    """Print the leaderboards of `table` (e.g. one run's rows) to `console` as rich tables."""
    boards = build_leaderboards(table, data_set=data_set, model=model, sort=sort, cost=cost)
    if not boards:
        console.print(EMPTY_MESSAGE)
    for board in boards:
        console.print(rich_table(board))


def markdown_table(headers: list[str], rows: list[list[str]], right: list[bool]) -> str:
    """A GitHub-flavoured pipe table; `right` marks right-aligned columns; pipes are escaped."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    separator = "|" + "|".join("---:" if r else "---" for r in right) + "|"
    return "\n".join([line(headers), separator, *(line(cells) for cells in rows)])


def leaderboard_markdown(boards: list[Leaderboard], heading: str = "###") -> str:
    """Markdown: one headed pipe table per leaderboard; the top-1 of best rows in bold."""
    headers = [header or "" for header, _, _ in DISPLAY_COLUMNS]
    right = [r for _, _, r in DISPLAY_COLUMNS]
    parts = []
    for board in boards:
        rows = []
        for _, row in board.rows.iterrows():
            cells = [cell(row) for _, cell, _ in DISPLAY_COLUMNS]
            if row["best"]:
                cells[TOP1_INDEX] = f"**{cells[TOP1_INDEX]}**"
            rows.append(cells)
        parts.append(f"{heading} {board.title}\n\n{markdown_table(headers, rows, right)}")
    if not parts:
        return EMPTY_MESSAGE + "\n"
    return "\n\n".join(parts) + f"\n\n{LEGEND}\n"


def leaderboard_csv(boards: list[Leaderboard]) -> str:
    """CSV with raw values (FLOPs in MACs, ratios as fractions), all leaderboards stacked."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for board in boards:
        for _, row in board.rows.iterrows():
            writer.writerow(["" if pd.isna(row[c]) else row[c] for c in CSV_COLUMNS])
    return buffer.getvalue()


def print_leaderboard(
    table: pa.Table,
    console: Console,
    fmt: str = "table",
    *,
    data_set: str | None = None,
    model: str | None = None,
    sort: str = "top1",
    cost: str = "flops",
) -> None:
    """Print the leaderboards of `table` in one of `FORMATS`; plain text for markdown and csv."""
    check_choice(fmt, FORMATS, "format")
    if fmt == "table":
        render_leaderboard(table, console, data_set=data_set, model=model, sort=sort, cost=cost)
        return
    boards = build_leaderboards(table, data_set=data_set, model=model, sort=sort, cost=cost)
    text = leaderboard_markdown(boards) if fmt == "markdown" else leaderboard_csv(boards)
    console.out(text, end="", highlight=False)
