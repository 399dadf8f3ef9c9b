"""The `sweep` section as Ray Tune objects: a flat search space, its objectives and a seeded sampler.

Keys stay the dotted field paths of the experiment (``search.target_ratio``), so a trial applies
its sampled config with ``exp.with_values(config)``. Building these needs no running cluster.

A sweep whose space holds ``search.target_ratio`` asks where the accuracy-vs-cost front lies, so
it maximises top-1 and minimises the cost ratio together (Optuna's multi-objective TPE); maximising
top-1 alone would drive R to its upper bound. With R fixed, hyperopt's TPE maximises top-1.
"""

from __future__ import annotations

from typing import Any

from ray import tune
from ray.tune.search import Searcher

from tasray.config.sweep import Range, SweepConfig

RATIO_KEY = "search.target_ratio"
SINGLE_OBJECTIVE = (["top1"], ["max"])
FRONT_OBJECTIVES = (["top1", "cost_ratio"], ["max", "min"])


def tune_domain(rng: Range, grid: bool) -> Any:
    """One range as a Tune domain (``grid_search`` for a grid sweep, which allows only choice)."""
    if rng.kind == "uniform":
        return tune.uniform(*rng.bounds)
    if rng.kind == "loguniform":
        return tune.loguniform(*rng.bounds)
    return tune.grid_search(list(rng.extremes())) if grid else tune.choice(list(rng.extremes()))


def tune_search_space(sweep: SweepConfig) -> dict[str, Any]:
    """Flat ``{dotted path: Tune domain}``."""
    grid = sweep.algorithm == "grid"
    return {key: tune_domain(rng, grid) for key, rng in sweep.space.items()}


def objectives(sweep: SweepConfig) -> tuple[list[str], list[str]]:
    """The trial results a sampler optimises and their directions: top-1, plus cost ratio ↓ with R swept."""
    return FRONT_OBJECTIVES if RATIO_KEY in sweep.space else SINGLE_OBJECTIVE


def initial_points(num_samples: int) -> int:
    """Random trials before TPE models anything: a quarter of the budget, at least 2, at most 20
    (hyperopt's default of 20 would make every sweep of 20 trials or fewer a random search)."""
    return max(2, min(20, num_samples // 4))


def make_sampler(sweep: SweepConfig, seed: int, points: list[dict[str, Any]]) -> Searcher:
    """The seeded model-based sampler of a ``hyperopt`` sweep with a non-empty space.

    Args:
        sweep: the validated sweep section.
        seed: the experiment's seed.
        points: complete points suggested first, in order (the user's, or an earlier run's).
    """
    metrics, modes = objectives(sweep)
    startup = initial_points(sweep.num_samples)
    space = tune_search_space(sweep)
    # Each sampler library is imported only when used: hyperopt alone pulls in scipy.stats, seconds
    # of start-up for every process that imports this module.
    if len(metrics) > 1:
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        return OptunaSearch(
            space=OptunaSearch.convert_search_space(space),
            metric=metrics,
            mode=modes,
            points_to_evaluate=points or None,
            sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup),
        )
    from ray.tune.search.hyperopt import HyperOptSearch

    return HyperOptSearch(
        space=HyperOptSearch.convert_search_space(space),
        metric=metrics[0],
        mode=modes[0],
        points_to_evaluate=points or None,
        n_initial_points=startup,
        random_state_seed=seed,
    )
