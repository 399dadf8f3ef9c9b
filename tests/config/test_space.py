"""The sweep section as Ray Tune objects (no cluster is started)."""

import pytest
from optuna.study import StudyDirection
from ray.tune.search.hyperopt import HyperOptSearch
from ray.tune.search.optuna import OptunaSearch
from ray.tune.search.sample import Categorical, Float, LogUniform, Uniform

from tasray.config import Experiment
from tasray.distributed.space import initial_points, make_sampler, objectives, tune_search_space

SPACE = {
    "search.target_ratio": {"uniform": [0.4, 0.7]},
    "search.lambda_cost": {"loguniform": [0.5, 4.0]},
    "search.num_selected": {"choice": [2, 3]},
}


def experiment(**sweep) -> Experiment:
    return Experiment.model_validate(
        {"name": "demo", "model": {"name": "cifar_resnet20"}, "sweep": {"space": SPACE, **sweep}}
    )


def test_space_maps_each_range_to_its_tune_domain():
    space = tune_search_space(experiment().sweep)
    assert set(space) == set(SPACE)
    ratio, cost, selected = (space[k] for k in SPACE)
    assert isinstance(ratio, Float) and isinstance(ratio.get_sampler(), Uniform)
    assert (ratio.lower, ratio.upper) == (0.4, 0.7)
    assert isinstance(cost, Float) and isinstance(cost.get_sampler(), LogUniform)
    assert isinstance(selected, Categorical) and selected.categories == [2, 3]


def test_grid_space_uses_grid_search():
    exp = Experiment.model_validate(
        {
            "name": "demo",
            "model": {"name": "cifar_resnet20"},
            "sweep": {
                "algorithm": "grid",
                "space": {"search.variant": {"choice": ["tas", "tas_w"]}},
            },
        }
    )
    assert tune_search_space(exp.sweep) == {"search.variant": {"grid_search": ["tas", "tas_w"]}}


def suggestions(exp: Experiment, count: int, seed: int = 0, points: list | None = None) -> list[dict]:
    metrics, _ = objectives(exp.sweep)
    searcher = make_sampler(exp.sweep, seed, points or [dict(p) for p in exp.sweep.points_to_evaluate])
    found = []
    for index in range(count):
        config = searcher.suggest(f"t{index}")
        result = {"top1": 50 + index, "cost_ratio": config.get("search.target_ratio", 0.5)}
        searcher.on_trial_complete(f"t{index}", {m: result[m] for m in metrics})
        found.append(config)
    return found


def test_a_swept_ratio_makes_a_multi_objective_optuna_sweep():
    sweep = experiment(num_samples=40).sweep
    assert objectives(sweep) == (["top1", "cost_ratio"], ["max", "min"])
    sampler = make_sampler(sweep, 0, [])
    assert isinstance(sampler, OptunaSearch) and sampler.metric == ["top1", "cost_ratio"]
    assert sampler._ot_study.directions == [StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE]
    assert sampler._sampler._n_startup_trials == initial_points(40) == 10


def test_a_fixed_ratio_makes_a_hyperopt_tpe_sweep_sized_to_the_budget():
    fixed = {k: v for k, v in SPACE.items() if k != "search.target_ratio"}
    exp = Experiment.model_validate(
        {"name": "demo", "model": {"name": "cifar_resnet20"}, "sweep": {"space": fixed, "num_samples": 8}}
    )
    assert objectives(exp.sweep) == (["top1"], ["max"])
    sampler = make_sampler(exp.sweep, 0, [])
    assert isinstance(sampler, HyperOptSearch) and sampler.metric == "top1"
    assert sampler.algo.keywords["n_startup_jobs"] == initial_points(8) == 2  # not hyperopt's default 20
    assert [initial_points(n) for n in (1, 8, 40, 400)] == [2, 2, 10, 20]


@pytest.mark.parametrize("ratio_swept", [True, False])
def test_samplers_suggest_valid_trial_configs(ratio_swept):
    space = SPACE if ratio_swept else {k: v for k, v in SPACE.items() if k != "search.target_ratio"}
    exp = Experiment.model_validate(
        {"name": "demo", "model": {"name": "cifar_resnet20"}, "sweep": {"space": space, "num_samples": 6}}
    )
    for config in suggestions(exp, 6):
        assert set(config) == set(space)
        trial = exp.with_values(config)
        assert 0.5 <= trial.search.lambda_cost <= 4.0
        assert trial.search.num_selected in (2, 3)
        assert 0.4 <= trial.search.target_ratio <= 0.7 or not ratio_swept


@pytest.mark.parametrize("ratio_swept", [True, False])
def test_samplers_are_seeded_and_try_the_given_points_first(ratio_swept):
    point = {"search.target_ratio": 0.5, "search.lambda_cost": 2.0, "search.num_selected": 3}
    space = SPACE if ratio_swept else {k: v for k, v in SPACE.items() if k != "search.target_ratio"}
    point = {k: point[k] for k in space}
    exp = Experiment.model_validate(
        {"name": "demo", "model": {"name": "cifar_resnet20"}, "sweep": {"space": space, "num_samples": 8}}
    )
    first, *rest = suggestions(exp, 5, points=[point])
    assert first == point
    assert rest == suggestions(exp, 5, points=[point])[1:]
    assert rest != suggestions(exp, 5, seed=1, points=[point])[1:]


def test_random_samples_are_valid_trial_configs():
    exp = experiment(algorithm="random")
    for _ in range(5):
        config = {key: domain.sample() for key, domain in tune_search_space(exp.sweep).items()}
        assert exp.with_values(config).search.num_selected in (2, 3)
