"""The sweep section as Ray Tune objects (no cluster is started)."""

import pytest
from ray.tune.search import ConcurrencyLimiter
from ray.tune.search.basic_variant import BasicVariantGenerator
from ray.tune.search.hyperopt import HyperOptSearch
from ray.tune.search.sample import Categorical, Float, LogUniform, Uniform

from tasray.config import Experiment
from tasray.distributed.space import make_search_algorithm, tune_search_space

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


def suggestions(exp: Experiment, count: int, seed: int = 0) -> list[dict]:
    searcher = make_search_algorithm(exp.sweep, "val_acc", "max", seed)
    assert searcher.set_search_properties("val_acc", "max", tune_search_space(exp.sweep))
    found = []
    for index in range(count):
        config = searcher.suggest(f"t{index}")
        searcher.on_trial_complete(f"t{index}", {"val_acc": 0.5 + index / 100})
        found.append(config)
    return found


def test_hyperopt_suggests_valid_trial_configs():
    exp = experiment(num_samples=6)
    for config in suggestions(exp, 6):
        assert set(config) == set(SPACE)
        trial = exp.with_values(config)
        assert 0.4 <= trial.search.target_ratio <= 0.7
        assert 0.5 <= trial.search.lambda_cost <= 4.0
        assert trial.search.num_selected in (2, 3)


def test_hyperopt_is_seeded_and_tries_the_given_points_first():
    point = {"search.target_ratio": 0.5, "search.lambda_cost": 2.0, "search.num_selected": 3}
    exp = experiment(points_to_evaluate=[point])
    first, *rest = suggestions(exp, 3)
    assert first == point
    assert rest == suggestions(exp, 3)[1:]
    assert rest != suggestions(exp, 3, seed=1)[1:]


def test_hyperopt_respects_max_concurrent():
    searcher = make_search_algorithm(experiment(max_concurrent=2).sweep, "val_acc", "max", 0)
    assert isinstance(searcher, ConcurrencyLimiter)
    assert isinstance(searcher.searcher, HyperOptSearch)
    searcher.set_search_properties("val_acc", "max", tune_search_space(experiment().sweep))
    assert searcher.suggest("a") is not None and searcher.suggest("b") is not None
    assert searcher.suggest("c") is None


@pytest.mark.parametrize(
    "sweep",
    [{"algorithm": "random", "max_concurrent": 3}, {"algorithm": "hyperopt", "space": {}}],
)
def test_random_and_empty_sweeps_use_tunes_basic_generator(sweep):
    searcher = make_search_algorithm(experiment(**sweep).sweep, "val_acc", "max", 0)
    assert isinstance(searcher, BasicVariantGenerator)
    assert searcher.max_concurrent == sweep.get("max_concurrent", 1)


def test_random_samples_are_valid_trial_configs():
    exp = experiment(algorithm="random")
    for _ in range(5):
        config = {key: domain.sample() for key, domain in tune_search_space(exp.sweep).items()}
        assert exp.with_values(config).search.num_selected in (2, 3)
