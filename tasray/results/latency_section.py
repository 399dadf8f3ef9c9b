"""The report's latency section: measured wall time beside FLOPs for each method's best network.

Latency is measured when the report is written, on that machine's device (CUDA if present, else
CPU), so its figures describe where the report runs, not where the trials ran; the unpruned net is
timed in the same interleaved rounds, and the ratios compare the two.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tasray.costs.flops import count_flops
from tasray.costs.timing import interleaved_latency
from tasray.engine.runner import default_device
from tasray.methods import method_label
from tasray.results.leaderboard_render import format_flops, markdown_table
from tasray.spec.arch import ArchSpec

REPORT_LATENCY_BATCH = 64
REPORT_LATENCY_ROUNDS = 3
REPORT_LATENCY_BUDGET_S = 2.0  # per batch size: fewer rounds for big networks on a CPU


def latency_section(rows: pd.DataFrame, folder: Path, title: str, slug: str) -> str:
    """A Markdown table: FLOP ratio, latency at batch 1 and 64, and latency ratios to the unpruned."""
    pruned = rows[rows["method"] != "unpruned"]
    if pruned.empty:
        return "No pruned network yet."
    best = pruned.sort_values("top1", ascending=False).groupby("method", sort=True).head(1)
    specs = [ArchSpec.from_json(arch) for arch in best["arch"]]
    full = ArchSpec.full(specs[0].model, specs[0].num_classes, specs[0].in_channels, specs[0].input_size)
    device = default_device()
    seconds = {
        batch: interleaved_latency(
            [full, *specs],
            batch,
            device,
            rounds=REPORT_LATENCY_ROUNDS,
            warmup=1,
            budget_s=REPORT_LATENCY_BUDGET_S,
        )
        for batch in dict.fromkeys((1, REPORT_LATENCY_BATCH))
    }
    b = REPORT_LATENCY_BATCH
    table_rows = [["unpruned", format_flops(count_flops(full)), "100.0%", *_cells(seconds, 0, b)]]
    for index, (_, r) in enumerate(best.iterrows(), start=1):
        network = f"{method_label(r['method'])} {r['trial_id']}"
        flops = [format_flops(r["flops"]), f"{100 * r['flop_ratio']:.1f}%"]
        table_rows.append([network, *flops, *_cells(seconds, index, b)])
    headers = ["network", "FLOPs", "FLOP ratio", "ms, batch 1", "ratio", f"ms, batch {b}", "ratio"]
    table = markdown_table(headers, table_rows, [False, True, True, True, True, True, True])
    return (
        f"Median forward latency (eval mode, up to {REPORT_LATENCY_ROUNDS} interleaved rounds) on this "
        f"machine's {device.type}, measured when the report was written; ratio = latency / "
        f"unpruned latency.\n\n{table}"
    )


def _cells(seconds: dict[int, list[float]], index: int, batch: int) -> list[str]:
    return [
        f"{seconds[1][index] * 1e3:.2f}",
        f"{seconds[1][index] / seconds[1][0]:.2f}",
        f"{seconds[batch][index] * 1e3:.1f}",
        f"{seconds[batch][index] / seconds[batch][0]:.2f}",
    ]
