"""An experiment's latency table, measured once and cached, and the latency columns of its rows."""

import os

import pytest

from tasray.config import load_experiment
from tasray.costs.latency_units import network_units
from tasray.engine.latency import experiment_spec, experiment_table, latency_columns, resolve_table
from tasray.engine.pipeline import TrialPlan, get_teacher, run_trial
from tasray.engine.runner import LocalRunner
from tasray.spec.arch import ArchSpec

FAST = ["latency.table_rounds=1", "latency.rounds=3"]


def quickstart(tmp_path, *overrides: str):
    return load_experiment("experiments/quickstart.yaml", [f"storage_path={tmp_path}", *FAST, *overrides])


def test_the_table_is_measured_once_and_cached_by_what_determines_it(tmp_path) -> None:
    exp = quickstart(tmp_path)
    path = resolve_table(exp)
    assert path.startswith(str(tmp_path / "_latency")) and path.endswith("/table.json")
    written = os.stat(path).st_mtime_ns
    assert (
        resolve_table(quickstart(tmp_path, "search.epochs=2", "latency.rounds=5")) == path
    )  # not its inputs
    assert os.stat(path).st_mtime_ns == written  # read back, not measured again
    assert resolve_table(quickstart(tmp_path, "latency.batch=2")) != path
    table = experiment_table(exp)
    full = experiment_spec(exp)
    assert table.batch == 1 and table.device == "cpu" and table.timer == "cpu time" and table.threads == 1
    assert all(unit in table.seconds for unit in network_units(full))
    assert all(seconds >= 0 for seconds in table.seconds.values())


def test_a_given_table_file_is_used_as_it_is(tmp_path) -> None:
    path = resolve_table(quickstart(tmp_path / "a"))
    exp = quickstart(tmp_path / "b", f"latency.table={path}")
    assert resolve_table(exp) == path and not (tmp_path / "b" / "_latency").exists()


def test_every_row_gets_the_predicted_and_measured_latency(tmp_path) -> None:
    exp = quickstart(tmp_path, "latency.batch=2")
    full = experiment_spec(exp)
    half = ArchSpec(full.model, [max(1, w // 2) for w in full.widths], (1, 2, 3), 1, (8, 8), 10)
    columns = latency_columns(exp, half)
    table = experiment_table(exp)
    assert columns["predicted_latency_ms"] == pytest.approx(1e3 * table.network_seconds(half))
    assert columns["latency_ratio"] == pytest.approx(
        table.network_seconds(half) / table.network_seconds(full)
    )
    assert columns["latency_device"].startswith("cpu (") and columns["latency_batch"] == 2
    for key in ("measured_latency_ms", "measured_latency_b1_ms", "measured_latency_ratio", "latency_spread"):
        assert columns[key] > 0
    assert latency_columns(exp, full)["measured_latency_ratio"] == 1.0


def test_a_latency_targeted_tas_trial_runs_end_to_end(tmp_path) -> None:
    overrides = ["teacher.epochs=1", "retrain.epochs=1", "search.epochs=2", "search.cost=latency"]
    exp = quickstart(tmp_path, *overrides)
    runner = LocalRunner(progress=False)
    record = run_trial(TrialPlan("tas-0", "tas", exp), get_teacher(exp, runner), runner)
    assert record.cost == "latency"
    assert record.cost_ratio == pytest.approx(record.latency_ratio)
    assert record.search_history[-1]["cost_ratio"] is not None
    assert record.measured_latency_ratio is not None and record.flop_ratio != pytest.approx(record.cost_ratio)
