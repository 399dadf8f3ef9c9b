"""`PlannedSearcher`: baselines and enumerated TAS points first, then the sampler, with stable trial ids."""

from pathlib import Path

import pytest
from ray.tune.search import Searcher

from tasray.config import load_experiment
from tasray.distributed.journal import SweepJournal
from tasray.distributed.searcher import PlannedSearcher, enumerated_points

QUICKSTART = Path(__file__).resolve().parents[2] / "experiments" / "quickstart.yaml"
# The quickstart's sweep without its two fixed points and its choice of cost: every TAS point sampled.
SAMPLED = [
    "sweep.points_to_evaluate=[]",
    "sweep.space={search.target_ratio: {uniform: [0.4, 0.7]}, search.lambda_cost: {loguniform: [0.5, 4.0]},"
    " search.num_selected: {choice: [2, 3]}}",
]


def quickstart(*overrides: str):
    """The quickstart experiment with every TAS point sampled, then `overrides`."""
    return load_experiment(QUICKSTART, [*SAMPLED, *overrides])


def suggestions(searcher: PlannedSearcher, limit: int = 20) -> list:
    configs = []
    for index in range(limit):
        config = searcher.suggest(f"tune-{index}")
        if config == Searcher.FINISHED:
            return configs
        configs.append(config)
    raise AssertionError("the searcher never finished")


def test_hyperopt_sweep_hands_out_baselines_then_sampled_tas_trials():
    exp = quickstart("sweep.num_samples=3")
    searcher = PlannedSearcher(exp)
    configs = suggestions(searcher)
    assert searcher.total == len(configs) == 5
    assert [c["trial"] for c in configs] == [
        "fixed_ratio-0-kd",
        "random_search-1-kd",
        "tas-000",
        "tas-001",
        "tas-002",
    ]
    assert [c["baseline"] for c in configs[:2]] == [0, 1] and configs[0]["values"] == {}
    for config in configs[2:]:
        values = config["values"]
        assert config["method"] == "tas" and config["baseline"] is None
        assert set(values) == set(exp.sweep.space)
        assert 0.4 <= values["search.target_ratio"] <= 0.7
        assert 0.5 <= values["search.lambda_cost"] <= 4.0
        assert values["search.num_selected"] in (2, 3)
        exp.with_values(values)  # a valid trial experiment
    assert len({c["values"]["search.target_ratio"] for c in configs[2:]}) == 3


def test_hyperopt_suggestions_are_seeded():
    first = suggestions(PlannedSearcher(quickstart()))
    again = suggestions(PlannedSearcher(quickstart()))
    other = suggestions(PlannedSearcher(quickstart("seed=1")))
    assert first == again
    assert [c["values"] for c in first[2:]] != [c["values"] for c in other[2:]]


def test_variant_names_the_tas_trials():
    exp = quickstart("search.variant=tas_w", "baselines=[]")
    assert [c["trial"] for c in suggestions(PlannedSearcher(exp))] == ["tas_w-000", "tas_w-001"]


def test_random_sweep_starts_with_points_to_evaluate_and_is_seeded():
    point = {"search.target_ratio": 0.5, "search.lambda_cost": 1.0, "search.num_selected": 3}
    exp = quickstart("sweep.algorithm=random", "sweep.num_samples=4", f"sweep.points_to_evaluate=[{point}]")
    points = enumerated_points(exp.sweep, exp.seed)
    assert len(points) == 4 and points[0] == point
    assert points == enumerated_points(exp.sweep, exp.seed)
    assert points[1:] != enumerated_points(exp.sweep, exp.seed + 1)[1:]
    assert all(0.4 <= p["search.target_ratio"] <= 0.7 for p in points)
    configs = suggestions(PlannedSearcher(exp))
    assert [c["values"] for c in configs[2:]] == points


def test_grid_sweep_enumerates_every_combination_per_repeat():
    exp = quickstart(
        "sweep.algorithm=grid",
        "sweep.num_samples=2",
        "sweep.space={search.num_selected: {choice: [2, 3]}, search.target_ratio: {choice: [0.4, 0.6]}}",
    )
    points = enumerated_points(exp.sweep, exp.seed)
    combos = [(p["search.num_selected"], p["search.target_ratio"]) for p in points]
    assert combos == [(2, 0.4), (2, 0.6), (3, 0.4), (3, 0.6)] * 2
    assert PlannedSearcher(exp).total == 8 + 2


@pytest.mark.parametrize("algorithm", ["hyperopt", "random"])
def test_a_restored_searcher_continues_where_the_saved_one_stopped(algorithm, tmp_path):
    exp = quickstart(f"sweep.algorithm={algorithm}", "sweep.num_samples=3")
    searcher = PlannedSearcher(exp)
    for index in range(3):
        searcher.suggest(f"tune-{index}")
    searcher.on_trial_complete("tune-2", {"top1": 50.0})
    searcher.save(str(tmp_path / "searcher.pkl"))
    expected = [searcher.suggest("tune-3"), searcher.suggest("tune-4"), searcher.suggest("tune-5")]
    restored = PlannedSearcher(quickstart())
    restored.restore(str(tmp_path / "searcher.pkl"))
    resumed = [restored.suggest("tune-3"), restored.suggest("tune-4"), restored.suggest("tune-5")]
    assert resumed == expected
    assert [c["trial"] for c in resumed[:2]] == ["tas-001", "tas-002"] and resumed[2] == Searcher.FINISHED


@pytest.mark.parametrize("space", ["front", "fixed_ratio"])
@pytest.mark.parametrize("size", [1, 3])  # the new point random / modelled
def test_a_larger_sweep_replays_the_journal_then_samples_new_points(space, size, tmp_path):
    """Whatever the order results came back in, the first n trials of a sweep of n + 1 are the n
    trials of the earlier sweep (so their rows are reused) and only the last one is new."""
    overrides = ["baselines=[]"]
    if space == "fixed_ratio":
        overrides.append("sweep.space={search.lambda_cost: {loguniform: [0.5, 4.0]}}")
    journal = SweepJournal(str(tmp_path / "points.json"))
    earlier = PlannedSearcher(quickstart(*overrides, f"sweep.num_samples={size}"), journal)
    first = [earlier.suggest(f"a{i}") for i in range(size)]
    for index in reversed(range(size)):  # completed out of order, as with concurrent trials
        earlier.on_trial_complete(f"a{index}", {"top1": 60.0 + index, "flop_ratio": 0.5})
    assert journal.load() == [c["values"] for c in first]
    larger = PlannedSearcher(quickstart(*overrides, f"sweep.num_samples={size + 1}"), journal)
    again = []
    for index in range(size):  # one at a time now: the sampler models results before the third
        again.append(larger.suggest(f"b{index}"))
        larger.on_trial_complete(f"b{index}", {"top1": 60.0 + index, "flop_ratio": 0.5})
    assert again == first
    new = larger.suggest(f"b{size}")
    assert new["trial"] == f"tas-{size:03d}" and new["values"] not in [c["values"] for c in first]
    assert larger.suggest("b-last") == Searcher.FINISHED
    assert len(journal.load()) == size + 1
