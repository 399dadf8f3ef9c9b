"""The numbers the report's figures draw: method colours, the search band and kept epoch, the
sweep's panels. Figures are caught before they are saved and read back through matplotlib."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from result_records import history, record

from tasray.methods.registry import METHODS
from tasray.results import plots
from tasray.results.colors import method_color, method_order
from tasray.spec.arch import ArchSpec


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    figures: list[Figure] = []
    monkeypatch.setattr(plots, "_save", lambda figure, path, legend_inches=0.0: figures.append(figure))
    return figures


def rows(*records) -> pd.DataFrame:
    return pd.DataFrame([r.to_row() for r in records])


def test_every_method_has_its_own_colour_searching_methods_first() -> None:
    order = method_order()
    assert sorted(order) == METHODS.names() and order[:3] == ["tas", "tas_d", "tas_w"]
    colours = [method_color(name) for name in order]
    assert len(set(colours)) == len(colours) == len(METHODS.names())
    assert method_color("unpruned") not in colours


def test_a_method_has_the_same_colour_in_the_accuracy_and_widths_figures(drawn: list[Figure]) -> None:
    alone = rows(record("f", "fixed_ratio", 0.7, 90.0))
    mixed = rows(
        record("t", "tas", 0.6, 91.0),
        record("l", "l1_global", 0.5, 89.0),
        record("f", "fixed_ratio", 0.7, 90.0),
    )
    for frame in (alone, mixed):  # other methods beside it do not shift its colour
        plots.plot_accuracy_vs_flops(
            frame, pd.DataFrame(columns=["flops", "top1", "label"]), Path("unused.png"), "t"
        )
    fixed = to_rgb(method_color("fixed_ratio"))
    for figure in drawn:
        points = {c.get_label(): to_rgb(c.get_facecolor()[0]) for c in figure.axes[0].collections}
        assert points["fixed ratio"] == fixed
    plots.plot_arch_widths([("f", ArchSpec.full("cifar_resnet20", 10), "fixed_ratio")], Path("unused.png"))
    kept = [bar for bar in drawn[-1].axes[0].patches if bar.get_label() != "unpruned"]
    assert to_rgb(kept[-1].get_facecolor()) == fixed


def test_search_trajectories_mark_the_band_the_kept_epoch_and_whole_epochs(drawn: list[Figure]) -> None:
    searched = record(
        "t",
        "tas",
        0.7,
        91.0,
        target_ratio=0.6,
        tolerance=0.05,
        selected_epoch=3,
        search_history=history(6, 1.0, 0.5),
    )
    plots.plot_search_trajectories(rows(searched), Path("unused.png"), "t")
    ratio_axes, discrepancy_axes = drawn[0].axes
    (band,) = [p for p in ratio_axes.patches if p.get_height() > 0]  # axhspan: from 0.57 to 0.63
    assert (band.get_y(), band.get_y() + band.get_height()) == pytest.approx((0.57, 0.63))
    (star,) = [c for c in ratio_axes.collections if len(c.get_offsets())]
    derived = [
        e["cost_ratio"] if e["cost_ratio"] is not None else e["flop_ratio"] for e in searched.search_history
    ]
    assert star.get_offsets()[0].tolist() == pytest.approx([3, derived[3]])
    for axes in (ratio_axes, discrepancy_axes):
        ticks = [t for t in axes.get_xticks() if axes.get_xlim()[0] <= t <= axes.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)


def test_the_sweep_figure_has_a_column_per_hyper_parameter_present(drawn: list[Figure]) -> None:
    only_r = rows(record("a", "tas", 0.7, 91.0, lambda_cost=None, num_selected=None))
    every = rows(
        record("a", "tas", 0.7, 91.0), record("b", "tas", 0.6, 90.0, lambda_cost=4.0, num_selected=4)
    )
    plots.plot_sweep(only_r, Path("unused.png"), "t")
    plots.plot_sweep(every, Path("unused.png"), "t")
    narrow, wide = drawn
    assert len(narrow.axes) == 2 and len(wide.axes) == 6
    assert narrow.get_figwidth() < wide.get_figwidth()
    assert [a.get_xlabel() for a in narrow.axes] == ["target R (of the trial's cost)"] * 2
    counts = {a.get_xlabel(): len(a.collections[0].get_offsets()) for a in wide.axes[:3]}
    assert counts == {"target R (of the trial's cost)": 2, "λ_cost": 2, "|I|": 2}
    assert np.all(np.isfinite(wide.axes[3].collections[0].get_offsets()))
    assert list(wide.axes[2].get_xticks()) == [3, 4]  # |I|: its values, whole numbers


def test_hyper_parameters_the_sweep_did_not_vary_get_no_panel(drawn: list[Figure]) -> None:
    same = rows(record("a", "tas", 0.7, 91.0), record("b", "tas", 0.7, 90.0))
    plots.plot_sweep(same, Path("unused.png"), "t")
    (figure,) = drawn
    assert [a.get_xlabel() for a in figure.axes] == ["target R (of the trial's cost)"] * 2
