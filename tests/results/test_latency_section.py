from dataclasses import replace

import pandas as pd
from result_records import record, slim

from tasray.costs import flops as cost
from tasray.methods import method_label
from tasray.results.latency_section import REPORT_LATENCY_BATCH, latency_section


def digits_sized(keep: float):
    return replace(slim("cifar_resnet20", keep), in_channels=1, input_size=(8, 8))


def test_latency_is_measured_beside_flops_for_each_methods_best_network(tmp_path) -> None:
    rows = pd.DataFrame(
        [
            record("fixed-a", "fixed_ratio", 0.25, 80.0, arch=digits_sized(0.25)).to_row(),
            record("fixed-b", "fixed_ratio", 0.5, 70.0, arch=digits_sized(0.5)).to_row(),
            record("tas-a", "tas", 0.5, 85.0, arch=digits_sized(0.5)).to_row(),
        ]
    )
    text = latency_section(rows, tmp_path, "cifar10 · cifar_resnet20", "x")
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert f"ms, batch {REPORT_LATENCY_BATCH}" in lines[0]
    cells = {cols[0]: cols[1:] for cols in ([c.strip() for c in line.split("|")[1:-1]] for line in lines[2:])}
    best = {f"{method_label('fixed_ratio')} fixed-a", f"{method_label('tas')} tas-a"}
    assert set(cells) == {"unpruned"} | best  # the best network of each method, and the reference
    flops, flop_ratio, ms1, ratio1, ms64, ratio64 = cells[f"{method_label('fixed_ratio')} fixed-a"]
    assert flop_ratio == f"{100 * cost.flop_ratio(digits_sized(0.25)):.1f}%"
    assert float(ms1) > 0 and float(ms64) > 0  # speed itself is bench/latency.py's, not a test's
    # Each ratio is the network's latency over the unpruned one's, up to the printed digits.
    unpruned_ms1, unpruned_ms64 = float(cells["unpruned"][2]), float(cells["unpruned"][4])
    assert within_rounding(float(ratio1), float(ms1), unpruned_ms1, 0.005)
    assert within_rounding(float(ratio64), float(ms64), unpruned_ms64, 0.05)


def within_rounding(ratio: float, ms: float, reference_ms: float, half_step: float) -> bool:
    """Whether `ratio` (printed to 2 decimals) can be ms / reference_ms for the unrounded times."""
    low = (ms - half_step) / (reference_ms + half_step)
    high = (ms + half_step) / max(reference_ms - half_step, 1e-9)
    return low - 0.005 <= ratio <= high + 0.005
