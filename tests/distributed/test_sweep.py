"""A real sweep on Ray: per-epoch curves in TensorBoard, rows readable from the store's root, and a
larger sweep that trains only its new trial; finished runs leave no checkpoints behind."""

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pytest
import ray
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tasray.cli import main
from tasray.results import read_results

QUICKSTART = Path(__file__).resolve().parents[2] / "experiments" / "quickstart.yaml"
SEARCH_EPOCHS = 3
pytestmark = pytest.mark.ray


@pytest.fixture
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def curves(folder: Path) -> dict[str, list]:
    """Every scalar curve of the event files under `folder`, by tag (Tune prefixes ray/tune/)."""
    found: dict[str, list] = {}
    for events in {path.parent for path in folder.rglob("events.out.tfevents*")}:
        accumulator = EventAccumulator(str(events)).Reload()
        for tag in accumulator.Tags()["scalars"]:
            found.setdefault(tag.removeprefix("ray/tune/"), []).append(accumulator.Scalars(tag))
    return found


def tuner_settings(sweep: Path) -> dict:
    """The TuneConfig and RunConfig that Tune saved for a run (what `Tuner.restore` reads)."""
    with open(sweep / "tuner.pkl", "rb") as file:
        return ray.cloudpickle.load(file)


def test_a_sweep_has_per_epoch_curves_and_grows_without_retraining(local_ray, tmp_path, capsys):
    store = tmp_path / "store"
    small = [
        f"storage_path={store}",
        "teacher.epochs=2",
        f"search.epochs={SEARCH_EPOCHS}",
        "retrain.epochs=2",
        "baselines=[]",
    ]

    def run(*extra: str) -> None:
        arguments = ["run", str(QUICKSTART)]
        for item in [*small, *extra]:
            arguments += ["--set", item]
        assert main(arguments) == 0, capsys.readouterr().err[-3000:]

    run("sweep.num_samples=1", "sweep.max_concurrent=null")
    rows = store / "quickstart"
    ray_runs = store / "_ray" / "quickstart"
    (sweep,) = ray_runs.glob("sweep-*")
    # Unset, max_concurrent is what the cluster holds: 2 CPUs, 1 worker of 1 CPU per trial.
    assert tuner_settings(sweep)["_tune_config"].max_concurrent_trials == 2

    # 1. One point per epoch of every stage, tagged by stage; the trial's last result, in Tune's
    # own folder, is its score.
    trial_curves = curves(next(ray_runs.glob("tas-000-*-tensorboard")))
    (flop_ratio,) = trial_curves["search/flop_ratio"]
    assert len(flop_ratio) == SEARCH_EPOCHS and len({p.step for p in flop_ratio}) == SEARCH_EPOCHS
    for tag in ("search/expected_flops", "search/discrepancy", "search/tau", "search/val_top1"):
        assert len(trial_curves[tag][0]) == SEARCH_EPOCHS, tag
    assert [len(trial_curves[tag][0]) for tag in ("retrain/top1", "retrain/loss")] == [2, 2]
    row = read_results(rows).to_pylist()[0]
    assert curves(sweep)["top1"][0][-1].value == pytest.approx(row["top1"])
    teacher_curves = curves(next(ray_runs.glob("teacher-*-tensorboard")))
    # The teacher's cache, the trial's row and model, and the curves are what is kept: no Ray Train
    # run is left.
    kept = sorted(p.name.split("-")[0] for p in ray_runs.iterdir() if not p.name.endswith("-tensorboard"))
    curve_runs = sorted(p.name.split("-")[0] for p in ray_runs.glob("*-tensorboard"))
    assert (kept, curve_runs) == (["points", "sweep"], ["tas", "teacher"])
    assert [len(teacher_curves[tag][0]) for tag in ("teacher/loss", "teacher/top1")] == [2, 2]

    # 2. pandas, pyarrow and duckdb read the rows from the store's root.
    for frame in [
        pd.read_parquet(store),
        ds.dataset(store, format="parquet").to_table().to_pandas(),
        duckdb.sql(f"select * from '{store}/**/*.parquet'").df(),
    ]:
        assert list(frame["trial_id"]) == ["tas-000"]

    # 3. One trial more, with other concurrency and resources: only the new trial trains.
    first = rows / "tas-000.parquet"
    before, stage_runs = first.stat().st_mtime_ns, {p.name for p in ray_runs.iterdir()}
    run("sweep.num_samples=2", "sweep.max_concurrent=1", "resources.trial_max_failures=2")
    assert first.stat().st_mtime_ns == before
    table = read_results(rows)
    assert table.column("trial_id").to_pylist() == ["tas-000", "tas-001"]
    new_runs = {p.name for p in ray_runs.iterdir()} - stage_runs
    assert sorted(name.split("-")[0] for name in new_runs) == ["sweep", "tas"]  # and tas-001's curves
    (grown,) = set(ray_runs.glob("sweep-*")) - {sweep}
    settings = tuner_settings(grown)
    assert settings["_tune_config"].max_concurrent_trials == 1
    assert settings["_run_config"].failure_config.max_failures == 2  # trial drivers are restarted
    values = [row["search_history"] for row in table.to_pylist()]
    assert values[0] != values[1]  # the new trial is a new point, not the first one drawn again
