"""The `sweep` section as Ray Tune objects: a flat search space and a seeded search algorithm.

Keys stay the dotted field paths of the experiment (``search.target_ratio``), so a trial applies
its sampled config with ``exp.with_values(config)``. Building these needs no running cluster.
"""

from __future__ import annotations

from typing import Any

from ray import tune
from ray.tune.search import ConcurrencyLimiter, SearchAlgorithm, Searcher
from ray.tune.search.basic_variant import BasicVariantGenerator
from ray.tune.search.hyperopt import HyperOptSearch

from tasray.config.sweep import Range, SweepConfig


def tune_domain(rng: Range, grid: bool) -> Any:
    """One range as a Tune domain (``grid_search`` for a grid sweep, which allows only choice)."""
    if rng.kind == "uniform":
        return tune.uniform(*rng.bounds)
    if rng.kind == "loguniform":
        return tune.loguniform(*rng.bounds)
    return tune.grid_search(list(rng.extremes())) if grid else tune.choice(list(rng.extremes()))


def tune_search_space(sweep: SweepConfig) -> dict[str, Any]:
    """Flat ``{dotted path: Tune domain}``, to pass as the Tuner's ``param_space``."""
    grid = sweep.algorithm == "grid"
    return {key: tune_domain(rng, grid) for key, rng in sweep.space.items()}


def make_search_algorithm(
    sweep: SweepConfig, metric: str, mode: str, seed: int
) -> Searcher | SearchAlgorithm:
    """The seeded search algorithm of `sweep`, already limited to ``sweep.max_concurrent``.

    hyperopt: ``HyperOptSearch`` (TPE) inside a ``ConcurrencyLimiter``. random, grid, and any
    sweep with an empty space (nothing for hyperopt to model): Tune's ``BasicVariantGenerator``
    (what Tune uses when given no algorithm), built here so that it is seeded, tries
    ``points_to_evaluate`` first and limits concurrency itself. Pass the result as
    ``TuneConfig(search_alg=...)`` and leave ``max_concurrent_trials`` unset.

    Args:
        sweep: the validated sweep section.
        metric: the metric reported by trials that hyperopt optimises, e.g. ``"val_acc"``.
        mode: ``"max"`` or ``"min"``.
        seed: the experiment's seed.
    """
    points = [dict(point) for point in sweep.points_to_evaluate] or None
    if sweep.algorithm == "hyperopt" and sweep.space:
        searcher = HyperOptSearch(metric=metric, mode=mode, points_to_evaluate=points, random_state_seed=seed)
        return ConcurrencyLimiter(searcher, max_concurrent=sweep.max_concurrent)
    return BasicVariantGenerator(
        points_to_evaluate=points, max_concurrent=sweep.max_concurrent, random_state=seed
    )
