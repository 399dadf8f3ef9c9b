"""Leaderboards as a rich terminal table, a Markdown table, or CSV.

All three show the same columns, defined once in `display_columns`. FLOPs (MACs) and parameters
are written in millions, in one style everywhere (table, Markdown, report): "22.40M", "0.270M";
top-1 is a mean ± std over the seeds of a configuration; R is the row's target, "cost" what R is a
ratio of, "in band" whether the row's cost lies within (1 ± t)·R, and "<cost> ratio" its cost
relative to the unpruned network under the leaderboard's cost. The paper's published rows, when
asked for, follow the measured ones, unranked.
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
    """MACs in millions, e.g. 22400000 -> ``22.40M`` (the paper's 2.24E7)."""
    return f"{macs / 1e6:.2f}M"


def format_params(count: float | None) -> str:
    """Parameters in millions, e.g. 270000 -> ``0.270M``; an en dash for a missing value."""
    return "–" if count is None or pd.isna(count) else f"{count / 1e6:.3f}M"


def format_percent(value: float | None, digits: int = 2) -> str:
    """A percentage, or an en dash for a missing value."""
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}f}%"


def format_top1(row: pd.Series) -> str:
    """Top-1, with ± the standard deviation over seeds when there are several."""
    spread = row.get("top1_std")
    if spread is None or pd.isna(spread):
        return format_percent(row["top1"])
    return f"{row['top1']:.2f} ± {spread:.2f}%"


def format_number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}f}"


BEST_MARK, PARETO_MARK, OUT_OF_BAND_MARK = "★", "◆", "⚠"
PUBLISHED = "published"
LEGEND = (
    f"{BEST_MARK} best top-1 of its cost bucket · {PARETO_MARK} Pareto-optimal · "
    f"{OUT_OF_BAND_MARK} no: cost outside (1 ± t)·R · FLOPs (MACs) and params in millions · "
    "top-1: mean ± std over the seeds"
)


def _marks(row: pd.Series) -> str:
    return (BEST_MARK if row["best"] else "") + (PARETO_MARK if row["pareto"] else "")


def _in_band(row: pd.Series) -> str:
    """Whether the row's cost lies in (1 ± t)·R; – for rows without a target (and schema 1 files)."""
    in_band = row.get("in_band")
    if in_band is None or pd.isna(in_band):
        return "–"
    return "yes" if in_band else f"{OUT_OF_BAND_MARK} no"


def _latency(row: pd.Series) -> str:
    """Measured latency at the latency table's batch, in ms (– for rows without it)."""
    value = row.get("measured_latency_ms")
    return "–" if value is None or pd.isna(value) else f"{value:.3g}"


def _cost(row: pd.Series) -> str:
    """The cost the row's R is a ratio of; – without a target (or in rows from before costs)."""
    own = row.get("cost")
    return own if isinstance(own, str) and not pd.isna(row["target_ratio"]) else "–"


Column = tuple[str, Callable[[pd.Series], str], bool]  # (header, cell text, right-aligned)


def display_columns(board: Leaderboard) -> list[Column]:
    """The columns of `board`; an experiment column only where trial ids repeat across runs."""
    columns: list[Column] = [
        ("kept", lambda r: PUBLISHED if r["bucket"] is None else bucket_label(r["bucket"]), False),
        ("method", lambda r: method_label(r["method"]), False),
        ("transfer", lambda r: r["transfer"], False),
        ("seeds", lambda r: "–" if pd.isna(r["seeds"]) else str(int(r["seeds"])), True),
        ("top-1", format_top1, True),
        ("drop", lambda r: format_percent(r["accuracy_drop"]), True),
        ("R", lambda r: format_number(r["target_ratio"], 2), True),
        ("cost", _cost, False),
        ("in band", _in_band, False),
        (f"{board.cost} ratio", lambda r: format_number(r["ratio"]), True),
        ("FLOPs", lambda r: format_flops(r["flops"]), True),
        ("params", lambda r: format_params(r["params"]), True),
        ("ms", _latency, True),
        ("", _marks, False),
    ]
    if board.rows["trial_id"].duplicated().any():
        columns.append(("experiment", lambda r: r["experiment_id"], False))
    return [*columns, ("trial", lambda r: r["trial_id"], False)]


def published_rows(board: Leaderboard) -> pd.DataFrame:
    """The paper's rows of `board`'s data set and model in the columns the cells read; never
    ranked, starred or on a front."""
    paper = board.published
    if paper.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "bucket": None,
            "method": paper["label"],
            "transfer": "–",
            "seeds": float("nan"),
            "top1": paper["top1"],
            "accuracy_drop": paper["top1_drop"],
            "target_ratio": float("nan"),
            "cost": None,
            "ratio": paper["flop_ratio"] if board.cost == "flops" else float("nan"),
            "flops": paper["flops"],
            "params": float("nan"),
            "measured_latency_ms": float("nan"),
            "best": False,
            "pareto": False,
            "in_band": None,
            "experiment_id": PUBLISHED,
            "trial_id": "paper, Table " + paper["table"].astype(str),
        }
    )


def shown_rows(board: Leaderboard) -> pd.DataFrame:
    """The measured rows of `board`, then its published ones."""
    paper = published_rows(board)
    return board.rows if paper.empty else pd.concat([board.rows, paper], ignore_index=True)


# Raw values for CSV: machine-readable, no formatting.
CSV_COLUMNS = (
    "data_set",
    "model",
    "bucket",
    "method",
    "transfer",
    "seeds",
    "top1",
    "top1_std",
    "top5",
    "accuracy_drop",
    "target_ratio",
    "cost",
    "ratio",
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
    columns = display_columns(board)
    for header, _, right in columns:
        # on a narrow terminal only the ids fold; everything else stays on one line
        folds = header in ("trial", "experiment")
        table.add_column(
            header,
            justify="right" if right else "left",
            no_wrap=not folds,
            overflow="fold",
            min_width=8 if folds else None,
        )
    previous = None
    for _, row in shown_rows(board).iterrows():
        cells = [cell(row) for _, cell, _ in columns]
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
    per_seed: bool = False,
    published: bool = False,
) -> None:
    """Print the leaderboards of `table` (e.g. one run's rows) to `console` as rich tables."""
    boards = build_leaderboards(
        table, data_set=data_set, model=model, sort=sort, cost=cost, per_seed=per_seed, published=published
    )
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
    parts = []
    for board in boards:
        columns = display_columns(board)
        headers, right = [header for header, _, _ in columns], [r for _, _, r in columns]
        top1 = headers.index("top-1")
        rows = []
        for _, row in shown_rows(board).iterrows():
            cells = [cell(row) for _, cell, _ in columns]
            if row["best"]:
                cells[top1] = f"**{cells[top1]}**"
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
        rows = shown_rows(board).assign(data_set=board.data_set, model=board.model)
        writer.writerows([_csv_value(row.get(c), c) for c in CSV_COLUMNS] for _, row in rows.iterrows())
    return buffer.getvalue()


def _csv_value(value: object, column: str) -> object:
    """Empty for a missing value; counts as whole numbers."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return ""
    return int(value) if column in ("flops", "params", "seeds", "bucket") else value


def print_leaderboard(
    table: pa.Table,
    console: Console,
    fmt: str = "table",
    *,
    data_set: str | None = None,
    model: str | None = None,
    sort: str = "top1",
    cost: str = "flops",
    per_seed: bool = False,
    published: bool = False,
) -> None:
    """Print the leaderboards of `table` in one of `FORMATS`; plain text for markdown and csv."""
    check_choice(fmt, FORMATS, "format")
    options = dict(
        data_set=data_set, model=model, sort=sort, cost=cost, per_seed=per_seed, published=published
    )
    if fmt == "table":
        render_leaderboard(table, console, **options)
        return
    boards = build_leaderboards(table, **options)
    text = leaderboard_markdown(boards) if fmt == "markdown" else leaderboard_csv(boards)
    console.out(text, end="", highlight=False)
