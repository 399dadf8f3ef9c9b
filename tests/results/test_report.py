from __future__ import annotations

import re
from pathlib import Path

import matplotlib.image as mpimg
import pytest
from result_records import record, slim

from tasray.errors import TasrayError
from tasray.results import plots
from tasray.results.report import write_report
from tasray.results.store import ResultsStore

LINK = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store")
    store = ResultsStore(root)
    for rec in [
        record("unpruned", "unpruned", 1.0, 92.5),
        record("tas-r5", "tas", 0.7, 92.0, experiment_id="sweep", target_ratio=0.5),
        record(
            "tas-r7",
            "tas",
            0.8,
            92.3,
            experiment_id="sweep",
            target_ratio=0.7,
            lambda_cost=4.0,
            num_selected=4,
        ),
        record("tas-d", "tas_d", 1.0, 91.0, arch=slim("cifar_resnet20", 1.0, depths=(2, 1, 3))),
        record("fixed", "fixed_ratio", 0.7, 90.5),
        record("c44", "random_search", 0.6, 91.5, model="cifar_resnet44", arch=slim("cifar_resnet44", 0.6)),
    ]:
        store.append(rec)
    return root


@pytest.fixture(scope="module")
def report(store_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "out"
    return write_report(store_root, out)


def test_every_link_resolves_to_a_png_that_is_not_blank(report: Path) -> None:
    links = LINK.findall(report.read_text())
    # resnet20 has TAS trials (trajectories, sweep); resnet44 only a random-search net
    assert sorted(links) == [
        f"{kind}-cifar10-cifar_resnet{depth}.png"
        for kind, depth in [
            ("accuracy_vs_flops", 20),
            ("accuracy_vs_flops", 44),
            ("arch_widths", 20),
            ("arch_widths", 44),
            ("search_trajectories", 20),
            ("sweep", 20),
        ]
    ]
    assert {report.parent / link for link in links} == set(report.parent.glob("*.png"))
    for link in links:
        pixels = mpimg.imread(report.parent / link)
        assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] > 200
        assert pixels[..., :3].std() > 0.05, f"{link} looks blank"


def test_report_has_leaderboard_published_rows_and_sweep(report: Path) -> None:
    text = report.read_text()
    for heading in (
        "## Leaderboard",
        "## Measured vs. published",
        "## Accuracy vs. FLOPs",
        "## Search trajectories",
        "## Widths of the best pruned networks",
        "## Effect of R, λ_cost and |I|",
    ):
        assert heading in text
    resnet20 = text.split("## Measured vs. published")[1].split("### cifar10 · cifar_resnet44")[0]
    assert "| published (paper, Table 3) | LCCL [7] | – | 91.68% | 1.06% | 26.10M | 36.0% |" in (resnet20)
    assert "| measured | TAS | kd | 92.30% |" in resnet20
    assert "The paper reports no numbers for this data set and model." in text
    sweep = text.split("## Effect of R")[1]
    assert "| trial | method | R | λ_cost | \\|I\\| | FLOP ratio | top-1 |" in sweep
    assert re.search(r"\| tas-r5 \| TAS \| 0\.5 \| 2 \| 3 \|", sweep)
    assert re.search(r"\| tas-r7 \| TAS \| 0\.7 \| 4 \| 4 \|", sweep)
    assert "multiply-accumulates" in text


def test_empty_store_or_bad_out_writes_nothing(tmp_path: Path, store_root: Path) -> None:
    with pytest.raises(TasrayError, match="no results under"):
        write_report(tmp_path / "empty", tmp_path / "out")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(TasrayError, match="is a file"):
        write_report(store_root, blocker)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_failing_figure_leaves_no_partial_report(tmp_path: Path, store_root: Path, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(plots, "plot_sweep", broken)
    with pytest.raises(RuntimeError, match="plot failed"):
        write_report(store_root, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_report_lists_each_methods_front_and_tass_hypervolume(report: Path) -> None:
    text = report.read_text()
    accuracy = text.split("## Accuracy vs. FLOPs")[1].split("\n## ")[0]
    resnet20 = accuracy.split("### cifar10 · cifar_resnet20")[1].split("###")[0]
    assert "| method | trials | front (FLOPs kept → top-1) | hypervolume |" in resnet20
    for label in ("TAS", "TAS (D)", "fixed ratio"):
        assert f"| {label} |" in resnet20
    # tas-r5 keeps as many FLOPs as the fixed-ratio net with a better top-1: it dominates it.
    assert "it dominates 1 of 1 baseline point" in resnet20
    tas_volume, base_volume = re.search(r"hypervolume ([\d.]+) against ([\d.]+)", resnet20).groups()
    # the baseline is the lowest top-1, yet the reference lies beyond it: a positive hypervolume
    assert float(tas_volume) > float(base_volume) > 0.0
    fronts = {
        line.split(" | ")[0][2:]: float(line.split(" | ")[-1][:-2])
        for line in resnet20.splitlines()
        if line.startswith("| ") and line.endswith(" |") and not line.startswith("| method")
    }
    assert all(volume > 0 for volume in fronts.values()), fronts
    assert "the worst ratio and the lowest top-1 of any pruned trial" in resnet20
