"""The in-process pipeline: teacher cache, one TAS trial and one baseline trial to results rows."""

from dataclasses import replace

import duckdb
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest
import torch
from sklearn.datasets import load_digits

from tasray.cli import main
from tasray.config import CONFIG_FILE, load_experiment, save_resolved, teacher_key
from tasray.data.card import data_card
from tasray.engine.pipeline import (
    TRIALS,
    Teacher,
    TeacherCache,
    TrialPlan,
    baseline_plans,
    full_spec,
    get_teacher,
    retrain_job,
    run_trial,
    save_data_card,
)
from tasray.engine.runner import LocalRunner
from tasray.engine.search_cache import SEARCHES, SearchCache
from tasray.errors import TasrayError
from tasray.io.export import load_card
from tasray.models.resnet import PrunedResNet
from tasray.results import ResultsStore, read_results
from tasray.results.leaderboard import build_leaderboards
from tasray.stages.search import SearchResult
from tasray.stages.transfer import L1Norm, select_channels

SMALL = ["teacher.epochs=2", "search.epochs=1", "retrain.epochs=2", "baselines.1.num_candidates=2"]


def test_trials_become_rows_and_the_teacher_is_trained_once(tmp_path) -> None:
    exp = load_experiment("experiments/quickstart.yaml", [*SMALL, f"storage_path={tmp_path}"])
    runner = LocalRunner(progress=False)
    teacher = get_teacher(exp, runner)
    cached = TeacherCache(exp.storage_path).load(teacher_key(exp))
    assert cached is not None and cached.top1 == teacher.top1

    class NoTraining:
        def run(self, job):
            raise AssertionError(f"{job.name} should come from the cache")

    assert get_teacher(exp, NoTraining()).top1 == teacher.top1
    store = ResultsStore(exp.storage_path)
    for plan in [TrialPlan("tas-0", "tas", exp), baseline_plans(exp)[0]]:
        store.append(run_trial(plan, teacher, runner))
    rows = read_results(tmp_path).to_pylist()
    assert [r["method"] for r in rows] == ["fixed_ratio", "tas"]
    tas = rows[1]
    assert len(tas["search_history"]) == 1 and tas["target_ratio"] == exp.search.target_ratio
    assert all(0 < r["flop_ratio"] < 1 and r["teacher_top1"] == teacher.top1 for r in rows)
    assert_readable_from_the_root(tmp_path, exp, ["fixed_ratio-0-kd", "tas-0"])
    # `tasray export` takes the trial's address beside its row; the network lies in _trials/,
    # with the card of the data it was trained on.
    assert load_card(tmp_path / exp.name / TRIALS / "tas-0") == data_card("digits")
    assert main(["export", str(tmp_path / exp.name / "tas-0"), "--format", "state_dict"]) == 0
    assert (tmp_path / exp.name / TRIALS / "tas-0-export" / "model.pt").is_file()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong weights"])
def test_a_damaged_cached_teacher_is_named_not_a_traceback(tmp_path, damage) -> None:
    exp = load_experiment("experiments/quickstart.yaml", [f"storage_path={tmp_path}"])
    cache, key = TeacherCache(str(tmp_path)), teacher_key(exp)
    model = PrunedResNet(full_spec(exp))
    cache.save(key, Teacher(model.spec, model, 50.0, 90.0, 1.0))
    file = tmp_path / "_teachers" / key / "teacher.pt"
    if damage == "garbage":
        file.write_bytes(b"not a checkpoint")
    elif damage == "truncated":
        file.write_bytes(file.read_bytes()[:1000])
    else:
        blob = torch.load(file, weights_only=False)
        blob["state"].pop(next(iter(blob["state"])))
        torch.save(blob, file)
    with pytest.raises(TasrayError, match=f"cached teacher {file} is damaged .*delete it") as caught:
        get_teacher(exp, LocalRunner(progress=False))
    assert "\n" not in str(caught.value)


def test_a_damaged_cached_search_is_named_not_a_traceback(tmp_path) -> None:
    spec = full_spec(load_experiment("experiments/quickstart.yaml", []))
    cache = SearchCache(str(tmp_path))
    cache.save("k", SearchResult(spec, [], 1.0, 0, True))
    assert cache.load("k") == SearchResult(spec, [], 1.0, 0, True)
    file = tmp_path / SEARCHES / "k" / "search.pt"
    file.write_bytes(file.read_bytes()[:100])
    with pytest.raises(TasrayError, match=f"cached search {file} is damaged .*delete it to run the search"):
        cache.load("k")


def assert_readable_from_the_root(store, exp, trial_ids) -> None:
    """pandas, pyarrow and duckdb read the rows from the store's root, past every other file in it."""
    save_resolved(exp, store / exp.name / CONFIG_FILE)
    others = [p for p in store.rglob("*") if p.is_file() and p.suffix != ".parquet"]
    assert {"teacher.pt", "search.pt", "model.pt", "arch.json", CONFIG_FILE} <= {p.name for p in others}
    frames = [
        pd.read_parquet(store),
        ds.dataset(store, format="parquet").to_table().to_pandas(),
        duckdb.sql(f"select * from '{store}/**/*.parquet'").df(),
    ]
    for frame in frames:
        assert sorted(frame["trial_id"]) == trial_ids


class CountingRunner:
    """A LocalRunner that counts the jobs it really runs, by job name."""

    def __init__(self) -> None:
        self.runner, self.ran = LocalRunner(progress=False), []

    def run(self, job):
        self.ran.append(job.name)
        return self.runner.run(job)


def test_a_transfer_grid_runs_one_search_and_one_retrain_per_transfer(tmp_path) -> None:
    exp = load_experiment("experiments/quickstart.yaml", [*SMALL, f"storage_path={tmp_path}", "baselines=[]"])
    runner = CountingRunner()
    teacher = get_teacher(exp, runner)
    transfers = ("scratch", "init", "kd")
    plans = [TrialPlan(f"tas-{t}", "tas", exp.with_values({"retrain.transfer": t})) for t in transfers]
    records = [run_trial(plan, teacher, runner) for plan in plans]
    assert runner.ran == ["teacher", "search", "retrain", "retrain", "retrain"]
    assert len({r.arch for r in records}) == 1 and [r.transfer for r in records] == ["scratch", "init", "kd"]
    assert len(list((tmp_path / SEARCHES).iterdir())) == 1  # next to the teacher cache
    # Another seed or another search setting is another search.
    for values in ({"seed": 1}, {"search.lambda_cost": 1.0}):
        run_trial(TrialPlan("tas-x", "tas", exp.with_values(values)), teacher, runner)
    assert runner.ran.count("search") == 3


def test_init_transfer_keeps_the_teachers_l1_largest_filters_for_every_method(tmp_path) -> None:
    """TAS and random search rank the teacher's filters like fixed-ratio does, not by position."""
    exp = load_experiment(
        "experiments/quickstart.yaml", ["retrain.transfer=init", f"storage_path={tmp_path}"]
    )
    spec = full_spec(exp)
    model = PrunedResNet(spec)
    teacher = Teacher(spec, model, 90.0, 99.0, 0.0)
    half = replace(spec, widths=tuple(max(1, w // 2) for w in spec.widths))
    job = retrain_job(TrialPlan("tas-0", "tas", exp), half, teacher, None)
    assert job.kept_channels == select_channels(model, half, L1Norm())
    inner = model.stages[0][0].branch[0].weight.abs().sum(dim=(1, 2, 3))
    assert job.kept_channels[1] == sorted(inner.topk(half.widths[1]).indices.tolist())
    assert job.kept_channels[1] != list(range(half.widths[1]))  # a random teacher's first filters lose


def test_the_data_card_is_saved_where_the_data_can_be_read(tmp_path) -> None:
    exp = load_experiment("experiments/quickstart.yaml", [f"storage_path={tmp_path}"])
    save_data_card(exp, str(tmp_path / "here"))
    assert load_card(tmp_path / "here") == data_card("digits")
    gone = exp.with_values({"data.name": "npz", "data.root": str(tmp_path / "gone.npz")})
    save_data_card(gone, str(tmp_path / "elsewhere"))  # a node without the data: no card, no error
    assert not (tmp_path / "elsewhere").exists()


def write_npz(path, size: int, images: int = 240) -> None:
    """A small npz data set of `size`×`size` grey digits (scikit-learn's, scaled and resized)."""
    digits = load_digits()
    x = torch.nn.functional.interpolate(torch.tensor(digits.images[:images, None] * 15.0), size=(size, size))
    x = x.round().clamp(0, 255).to(torch.uint8)[:, 0].numpy()
    y = digits.target[:images]
    half = images // 2
    np.savez(path, x_train=x[:half], y_train=y[:half], x_test=x[half:], y_test=y[half:])


def test_two_npz_data_sets_in_one_store_are_two_leaderboards(tmp_path) -> None:
    """Rows carry the npz data set's label (the file's stem by default), and the leaderboard never
    ranks two data sets together, even of one image shape and with equal trial ids."""
    write_npz(tmp_path / "mnist-like.npz", 8)
    write_npz(tmp_path / "shifted.npz", 8, images=300)
    store = ResultsStore(tmp_path / "results")
    for name, root, label in (("run-a", "mnist-like.npz", "null"), ("run-b", "shifted.npz", "digits-b")):
        exp = load_experiment(
            "experiments/quickstart.yaml",
            [
                *SMALL,
                "teacher.epochs=1",
                "retrain.epochs=1",
                f"name={name}",
                f"storage_path={tmp_path / 'results'}",
                "data.name=npz",
                f"data.root={tmp_path / root}",
                f"data.label={label}",
            ],
        )
        runner = LocalRunner(progress=False)
        store.append(run_trial(baseline_plans(exp)[0], get_teacher(exp, runner), runner))
    rows = read_results(tmp_path / "results").to_pylist()
    assert sorted(r["data_set"] for r in rows) == ["digits-b", "mnist-like"]
    boards = build_leaderboards(read_results(tmp_path / "results"))
    assert [b.title for b in boards] == ["digits-b · cifar_resnet20", "mnist-like · cifar_resnet20"]
    assert [b.rows["trial_id"].tolist() for b in boards] == [["fixed_ratio-0-kd"]] * 2
