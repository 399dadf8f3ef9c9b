"""The trials of one sweep as a Tune `Searcher`: fixed trials first, then the sampler's TAS trials.

Fixed trials are every baseline and, for ``random`` and ``grid`` sweeps, the TAS points enumerated
here from the experiment's seed (the first n points of a sweep of n + 1 are those of a sweep of n).
A ``hyperopt`` sweep asks a model-based sampler (`make_sampler`) and records what it handed out in
a `SweepJournal`, which a resized sweep replays first. Each suggested config carries its own stable trial id
(``fixed_ratio-0-kd``, ``tas-000``), which names the trial's rows and its Ray Train runs.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import ray.cloudpickle as cloudpickle
from ray.tune.search import Searcher

from tasray.config import Experiment, Range, SweepConfig
from tasray.distributed.journal import SweepJournal
from tasray.distributed.space import make_sampler
from tasray.engine.pipeline import baseline_plans


def sample_value(rng: Range, generator: np.random.Generator) -> Any:
    """One value of a range, drawn with `generator`."""
    if rng.kind == "choice":
        return rng.choice[int(generator.integers(len(rng.choice)))]
    low, high = rng.bounds
    if rng.kind == "loguniform":
        return float(math.exp(generator.uniform(math.log(low), math.log(high))))
    return float(generator.uniform(low, high))


def enumerated_points(sweep: SweepConfig, seed: int) -> list[dict[str, Any]]:
    """The TAS points of a random or grid sweep (or any sweep with an empty space), in order."""
    if sweep.algorithm == "grid":
        keys = list(sweep.space)
        combinations = itertools.product(*(sweep.space[k].choice for k in keys))
        return [dict(zip(keys, values, strict=True)) for values in combinations] * sweep.num_samples
    generator = np.random.default_rng(seed)
    points = [dict(point) for point in sweep.points_to_evaluate][: sweep.num_samples]
    while len(points) < sweep.num_samples:
        points.append({key: sample_value(rng, generator) for key, rng in sweep.space.items()})
    return points


def trial_config(
    trial: str, method: str, values: dict[str, Any], baseline: int | None = None
) -> dict[str, Any]:
    """What one Tune trial receives: its id, its method, and the dotted values to apply."""
    return {"trial": trial, "method": method, "values": values, "baseline": baseline}


def tas_trial_id(variant: str, index: int) -> str:
    return f"{variant}-{index:03d}"


class PlannedSearcher(Searcher):
    """Suggests the fixed trials, then `num_sampled` TAS trials from `sampler`, then stops.

    It declares no metric to Tune: trials report per-epoch stage metrics before their final
    top-1 and cost ratio, and only the sampler, on completion, needs those.

    Args:
        exp: the validated experiment.
        journal: where a ``hyperopt`` sweep records its points, and finds an earlier run's.
    """

    def __init__(self, exp: Experiment, journal: SweepJournal | None = None) -> None:
        super().__init__()
        self.fixed = [trial_config(p.trial_id, p.method, {}, p.baseline_index) for p in baseline_plans(exp)]
        self.variant = exp.search.variant
        sweep = exp.sweep
        self.sampler: Searcher | None = None
        self.num_sampled = 0
        self.journal = journal
        self.points: list[dict[str, Any]] = []  # what the sampler handed out, by TAS trial index
        if sweep.algorithm == "hyperopt" and sweep.space:
            earlier = journal.load()[: sweep.num_samples] if journal is not None else []
            given = [dict(point) for point in sweep.points_to_evaluate]
            # Replayed points draw no random numbers: a sampler seeded as before would then draw
            # the earlier run's first random points again. Another stream per replay length.
            seed = (
                exp.seed
                if not earlier
                else int(np.random.SeedSequence([exp.seed, len(earlier)]).generate_state(1)[0])
            )
            self.sampler = make_sampler(sweep, seed, earlier + given[len(earlier) :])
            self.num_sampled = sweep.num_samples
        else:
            points = enumerated_points(sweep, exp.seed)
            self.fixed += [
                trial_config(tas_trial_id(self.variant, i), self.variant, p) for i, p in enumerate(points)
            ]
        self.handed_out = 0
        self.sampled: set[str] = set()  # Tune trial ids whose config came from the sampler

    @property
    def total(self) -> int:
        """How many trials the sweep runs (Tune's num_samples)."""
        return len(self.fixed) + self.num_sampled

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec: Any) -> bool:
        return True  # metric, mode and space are fixed by the experiment

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self.handed_out < len(self.fixed):
            self.handed_out += 1
            return self.fixed[self.handed_out - 1]
        index = self.handed_out - len(self.fixed)
        if self.sampler is None or index >= self.num_sampled:
            return Searcher.FINISHED
        values = self.sampler.suggest(trial_id)
        if values is None or values == Searcher.FINISHED:
            return values
        self.handed_out += 1
        self.sampled.add(trial_id)
        self.points.append(values)
        if self.journal is not None:
            self.journal.save(self.points)
        return trial_config(tas_trial_id(self.variant, index), self.variant, values)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if trial_id in self.sampled:
            self.sampler.on_trial_complete(trial_id, result, error)

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as file:
            cloudpickle.dump(self.__dict__, file)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as file:
            self.__dict__.update(cloudpickle.load(file))
