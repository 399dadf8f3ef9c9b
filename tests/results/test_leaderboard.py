from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from result_records import record
from rich.console import Console

from tasray.costs.flops import FlopsCost
from tasray.errors import TasrayError
from tasray.results.leaderboard import (
    build_leaderboards,
    dominated_by,
    flop_bucket,
    hypervolume,
    pareto_mask,
    reference_point,
)
from tasray.results.leaderboard_render import (
    format_flops,
    format_params,
    leaderboard_csv,
    leaderboard_markdown,
    print_leaderboard,
    render_leaderboard,
)
from tasray.results.report import write_report
from tasray.results.schema import SCHEMA
from tasray.results.store import ResultsStore
from tasray.spec.arch import ArchSpec


@pytest.fixture
def table(tmp_path: Path) -> pa.Table:
    store = ResultsStore(tmp_path)
    for rec in [
        record("unpruned", "unpruned", 1.0, 92.5),
        record("tas", "tas", 0.7, 92.0),
        record("fixed", "fixed_ratio", 0.7, 90.5),
        record("random", "random_search", 0.68, 90.8),
        record("tas-w", "tas_w", 0.5, 89.0),
        record("c100", "tas", 0.7, 68.0, data_set="cifar100", teacher_top1=68.5),
    ]:
        store.append(rec)
    return store.read()


def test_one_board_per_data_set_and_model_bucketed_and_ranked(table: pa.Table) -> None:
    boards = build_leaderboards(table)
    assert [b.title for b in boards] == ["cifar10 · cifar_resnet20", "cifar100 · cifar_resnet20"]
    rows = boards[0].rows
    assert rows["trial_id"].tolist() == ["unpruned", "tas", "random", "fixed", "tas-w"]
    assert rows["bucket"].tolist() == [100, 40, 40, 40, 20]
    assert rows.set_index("trial_id")["best"].to_dict() == {
        "unpruned": True,
        "tas": True,
        "random": False,
        "fixed": False,
        "tas-w": True,
    }
    # fixed has tas's FLOPs and less accuracy; every other row trades FLOPs for accuracy
    assert rows.set_index("trial_id")["pareto"].to_dict() == {
        "unpruned": True,
        "tas": True,
        "random": True,
        "fixed": False,
        "tas-w": True,
    }


def test_sort_keys_reorder_inside_buckets(table: pa.Table) -> None:
    by_flops = build_leaderboards(table, data_set="cifar10", sort="flops")[0].rows
    assert by_flops["trial_id"].tolist() == ["unpruned", "random", "tas", "fixed", "tas-w"]
    by_drop = build_leaderboards(table, data_set="cifar10", sort="drop")[0].rows
    assert by_drop["trial_id"].tolist() == ["unpruned", "tas", "random", "fixed", "tas-w"]
    by_method = build_leaderboards(table, data_set="cifar10", sort="method")[0].rows
    assert by_method["method"].tolist()[1:4] == ["fixed_ratio", "random_search", "tas"]


def test_filters_and_bad_choices_name_the_allowed_values(table: pa.Table) -> None:
    assert [b.data_set for b in build_leaderboards(table, data_set="cifar100")] == ["cifar100"]
    with pytest.raises(TasrayError, match="data set 'imagenet'; present: cifar10, cifar100"):
        build_leaderboards(table, data_set="imagenet")
    with pytest.raises(TasrayError, match="model 'resnet50'; present: cifar_resnet20"):
        build_leaderboards(table, model="resnet50")
    with pytest.raises(TasrayError, match="sort column 'speed'; allowed: top1, drop, flops"):
        build_leaderboards(table, sort="speed")
    with pytest.raises(TasrayError, match="format 'html'; allowed: table, markdown, csv"):
        print_leaderboard(table, Console(file=io.StringIO()), "html")


def test_pareto_mask_and_buckets() -> None:
    flops = np.array([10.0, 10.0, 5.0, 20.0, 5.0])
    top1 = np.array([90.0, 89.0, 80.0, 90.0, 80.0])
    assert pareto_mask(flops, top1).tolist() == [True, False, True, False, True]
    assert [flop_bucket(r) for r in (0.3, 0.55, 0.999, 1.0)] == [30, 50, 90, 100]
    assert format_flops(2.24e7) == "22.40M" and format_flops(1.21e9) == "1210.00M"
    assert format_params(2.7e5) == "0.270M" and format_params(None) == "–"


def test_rich_table_lists_rows_in_rank_order(table: pa.Table) -> None:
    console = Console(record=True, width=220, file=io.StringIO())
    render_leaderboard(table, console, data_set="cifar10")
    text = console.export_text()
    assert "cifar10 · cifar_resnet20" in text
    lines = [line.split() for line in text.splitlines() if " kd " in line]
    assert [cells[-1] for cells in lines] == ["unpruned", "tas", "random", "fixed", "tas-w"]
    assert lines[1][-2] == "★◆"
    assert not {"★", "◆"} & set("".join(lines[3]))  # fixed: neither best nor Pareto
    assert "★ best top-1 of its cost bucket" in text


def test_rows_outside_their_flop_band_are_marked(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.append(record("tas-in", "tas", 0.7, 90.0))
    store.append(record("tas-out", "tas", 0.7, 91.0, target_ratio=0.7, tolerance=0.05))  # ratio ≈ 0.49
    store.append(record("fixed", "fixed_ratio", 0.5, 88.0))  # no FLOP target: no mark
    console = Console(record=True, width=220, file=io.StringIO())
    render_leaderboard(store.read(), console)
    text = console.export_text()
    marks = {line.split()[-1]: line for line in text.splitlines() if " kd " in line}
    assert "⚠" in marks["tas-out"] and "⚠" not in marks["tas-in"] and "⚠" not in marks["fixed"]
    assert "⚠ no: cost outside (1 ± t)·R" in text
    assert "⚠ no" in marks["tas-out"] and " yes " in marks["tas-in"] and " yes " not in marks["fixed"]
    rows = list(csv.DictReader(io.StringIO(leaderboard_csv(build_leaderboards(store.read())))))
    assert {r["trial_id"]: r["in_band"] for r in rows} == {"tas-in": "True", "tas-out": "False", "fixed": ""}


def test_markdown_and_csv_carry_the_same_rows(table: pa.Table) -> None:
    boards = build_leaderboards(table, data_set="cifar10")
    markdown = leaderboard_markdown(boards)
    body = [line for line in markdown.splitlines() if line.startswith("| ") and "kd" in line]
    assert len(body) == 5
    assert "**92.00%**" in body[1] and "**" not in body[3]
    parsed = list(csv.DictReader(io.StringIO(leaderboard_csv(boards))))
    assert [row["trial_id"] for row in parsed] == ["unpruned", "tas", "random", "fixed", "tas-w"]
    flops = dict(zip(table["trial_id"].to_pylist(), table["flops"].to_pylist(), strict=True))
    assert int(parsed[1]["flops"]) == flops["tas"]
    assert parsed[3]["pareto"] == "False" and parsed[1]["best"] == "True"


def test_empty_table_prints_a_message() -> None:
    console = Console(record=True, file=io.StringIO())
    render_leaderboard(SCHEMA.empty_table(), console)
    assert console.export_text().strip() == "No results yet."


def test_the_reference_point_gives_the_worst_method_a_positive_hypervolume() -> None:
    best = (np.array([0.4, 0.6]), np.array([91.0, 92.0]))
    worst = (np.array([0.8]), np.array([88.0]))  # the costliest and the least accurate point
    reference = reference_point(np.concatenate([best[0], worst[0]]), np.concatenate([best[1], worst[1]]))
    assert reference == pytest.approx((0.8 + 0.04, 88.0 - 0.4))  # 10% of each axis's spread beyond
    assert hypervolume(*worst, reference) == pytest.approx(0.04 * 0.4)
    assert hypervolume(*best, reference) > hypervolume(*worst, reference) > 0
    assert reference_point(np.array([0.5]), np.array([90.0])) == pytest.approx((0.51, 89.9))


def test_hypervolume_is_the_area_the_front_dominates_up_to_the_reference() -> None:
    ratios = np.array([0.5, 0.7, 0.6, 1.2])
    top1 = np.array([90.0, 92.0, 89.0, 95.0])  # (0.6, 89) is dominated; (1.2, 95) lies past the reference
    # (1 - 0.5) · (90 - 88) + (1 - 0.7) · (92 - 90)
    assert hypervolume(ratios, top1, (1.0, 88.0)) == pytest.approx(1.6)
    assert hypervolume(ratios[:1], top1[:1], (1.0, 88.0)) == pytest.approx(1.0)
    assert hypervolume(ratios, top1, (0.4, 88.0)) == 0.0
    assert list(dominated_by(ratios, top1, ratios[:2], top1[:2])) == [False, False, True, False]


def test_latency_buckets_by_the_tables_ratio_and_sorts_by_measured_time(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    timed = [
        ("fast", 0.42, 1.0, 88.0),
        ("slow", 0.47, 3.0, 89.0),
        ("mid", 0.45, 2.0, 90.0),
        ("big", 0.81, 4.0, 91.0),
    ]
    for trial, ratio, ms, top1 in timed:  # one FLOP ratio (keep 0.7): one FLOP bucket
        store.append(record(trial, "tas", 0.7, top1, latency_ratio=ratio, measured_latency_ms=ms))
    store.append(record("old", "tas", 0.7, 92.0))  # written before the latency columns: left out
    (board,) = build_leaderboards(store.read(), cost="latency", sort="latency")
    assert list(board.rows["trial_id"]) == ["big", "fast", "mid", "slow"]
    assert list(board.rows["bucket"]) == [80, 40, 40, 40]
    (flops,) = build_leaderboards(store.read())
    assert len(set(flops.rows["bucket"])) == 1 and len(flops.rows) == 5  # every row has a FLOP ratio


def seeded(store: ResultsStore) -> pa.Table:
    """TAS at three seeds (90, 92, 94 %: mean 92, std 2) and fixed ratio at one seed (93 %)."""
    for seed, top1 in enumerate((90.0, 92.0, 94.0)):
        store.append(record(f"tas-s{seed}", "tas", 0.7, top1, seed=seed, setup_hash="tas-setup"))
    store.append(record("fixed", "fixed_ratio", 0.7, 93.0, setup_hash="fixed-setup"))
    return store.read()


def test_seeds_of_one_configuration_are_one_row_ranked_by_their_mean(tmp_path: Path) -> None:
    table = seeded(ResultsStore(tmp_path))
    rows = build_leaderboards(table)[0].rows
    assert rows["method"].tolist() == ["fixed_ratio", "tas"]  # 93 beats the mean 92, not the best seed 94
    tas = rows.iloc[1]
    assert (tas["seeds"], tas["top1"], tas["top1_std"]) == (3, pytest.approx(92.0), pytest.approx(2.0))
    assert tas["trial_id"] == "tas-s0, tas-s1, tas-s2" and bool(rows.iloc[0]["best"])
    per_seed = build_leaderboards(table, per_seed=True)[0].rows
    assert per_seed["trial_id"].tolist() == ["tas-s2", "fixed", "tas-s1", "tas-s0"]
    assert set(per_seed["seeds"]) == {1} and per_seed["top1_std"].isna().all()
    console = Console(record=True, width=220, file=io.StringIO())
    render_leaderboard(table, console)
    line = next(line for line in console.export_text().splitlines() if "tas-s0" in line)
    assert "92.00 ± 2.00%" in line and " 3 " in line


def test_published_rows_follow_unranked_and_marked(tmp_path: Path) -> None:
    table = seeded(ResultsStore(tmp_path))
    plain, shown = build_leaderboards(table)[0], build_leaderboards(table, published=True)[0]
    assert plain.published.empty and len(shown.published) == 6  # Table 3, CIFAR-10 ResNet-20
    assert shown.rows.equals(plain.rows)  # published rows change no rank, star or front
    markdown = leaderboard_markdown([shown]).splitlines()
    published = [line for line in markdown if line.startswith("| published |")]
    assert len(published) == 6 and markdown.index(published[0]) > max(
        i for i, line in enumerate(markdown) if "| kd |" in line
    )
    assert all("**" not in line and "★" not in line and "◆" not in line for line in published)
    parsed = list(csv.DictReader(io.StringIO(leaderboard_csv([shown]))))
    assert [r["experiment_id"] for r in parsed].count("published") == 6


def test_target_and_cost_ratio_beside_each_row(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.append(
        record(
            "fixed",
            "fixed_ratio",
            0.7,
            90.0,
            target_ratio=0.5,
            tolerance=0.05,
            cost=FlopsCost(),
            latency_ratio=0.6,
        )
    )
    console = Console(record=True, width=220, file=io.StringIO())
    render_leaderboard(store.read(), console)
    header, line = (
        line.split() for line in console.export_text().splitlines() if "ratio" in line or " kd " in line
    )
    assert header[6:11] == ["R", "cost", "in", "band", "flops"] and header[11] == "ratio"
    cost_ratio = store.read()["cost_ratio"][0].as_py()  # ≈ 0.49: inside 0.5 ± 5%
    assert line[7:11] == ["0.50", "flops", "yes", f"{cost_ratio:.3f}"]
    latency = leaderboard_markdown(build_leaderboards(store.read(), cost="latency"))
    assert "| R | cost | in band | latency ratio |" in latency  # the leaderboard's cost names the ratio


def test_flops_and_params_read_in_millions_in_the_table_markdown_and_report(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "store")
    store.append(record("fixed", "fixed_ratio", 0.7, 90.0))
    row = store.read().to_pylist()[0]
    flops, params = f"{row['flops'] / 1e6:.2f}M", f"{row['params'] / 1e6:.3f}M"
    console = Console(record=True, width=220, file=io.StringIO())
    render_leaderboard(store.read(), console)
    (line,) = [line for line in console.export_text().splitlines() if " kd " in line]
    markdown = leaderboard_markdown(build_leaderboards(store.read()))
    report = write_report(tmp_path / "store", tmp_path / "report").read_text()
    for text in (line, markdown, report.split("## Leaderboard")[1]):
        assert f" {flops} " in text and f" {params} " in text
    assert f"| measured | fixed ratio | kd | 90.00% | 2.50% | {flops} |" in report
    assert not re.search(r"\| \d\.\d+E\d+ \|", report)  # no cell in the paper's E notation left


def test_equal_trial_ids_of_two_experiments_get_an_experiment_column(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.append(record("tas-000", "tas", 0.7, 90.0, experiment_id="mnist-run"))
    store.append(record("tas-000", "tas", 0.5, 88.0, experiment_id="cifar-run"))
    text = leaderboard_markdown(build_leaderboards(store.read()))
    assert "| experiment | trial |" in text and "| mnist-run | tas-000 |" in text
    assert "| cifar-run | tas-000 |" in text
    store.append(record("other", "tas", 0.5, 88.0, experiment_id="x", data_set="cifar100"))
    only_one = leaderboard_markdown(build_leaderboards(store.read(), data_set="cifar100"))
    assert "experiment" not in only_one


def test_other_input_shapes_or_class_counts_are_other_leaderboards(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.append(record("small", "tas", 0.7, 90.0))
    big = ArchSpec.full("cifar_resnet20", 10, 3, (64, 64))
    store.append(record("big", "tas", 0.7, 80.0, arch=big))
    store.append(record("many", "tas", 0.7, 70.0, arch=ArchSpec.full("cifar_resnet20", 20)))
    titles = [b.title for b in build_leaderboards(store.read())]
    assert titles == [
        "cifar10 · cifar_resnet20 · 3×32×32, 10 classes",
        "cifar10 · cifar_resnet20 · 3×32×32, 20 classes",
        "cifar10 · cifar_resnet20 · 3×64×64, 10 classes",
    ]
