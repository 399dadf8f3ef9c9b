"""The caches a run reads, read on the driver before Ray starts: a damaged one costs no cluster.

The teacher's key and the sweep journal's path follow from the experiment. A cached search is keyed
by its trial's values, so the searches checked are those of the TAS trials whose values are known
beforehand: every trial of a ``random`` or ``grid`` sweep (or of a sweep without a space), and the
replayed and given points of a ``hyperopt`` sweep; its new samples are drawn later, on Ray.
"""

from __future__ import annotations

from typing import Any

from tasray.config import MEASURED_COSTS, Experiment, teacher_key
from tasray.distributed.journal import SweepJournal
from tasray.distributed.searcher import enumerated_points
from tasray.distributed.sweep import sweep_journal
from tasray.engine.jobs import SearchJob
from tasray.engine.latency import table_at_hand
from tasray.engine.pipeline import Teacher, TeacherCache, full_spec, trial_cost
from tasray.engine.search_cache import SearchCache, search_key
from tasray.errors import TasrayError


def check_caches(exp: Experiment) -> Teacher | None:
    """Read every cache the run will read that can be found now; returns the cached teacher, if any.

    Raises:
        TasrayError: a cache or the sweep journal cannot be read (the cause named) or is damaged.
    """
    teacher = TeacherCache(exp.storage_path).load(teacher_key(exp))
    searches = SearchCache(exp.storage_path)
    # A latency-targeted search is keyed by its table: with no table yet, it has no cached search.
    trials = [t for t in known_trials(exp) if t.search.cost not in MEASURED_COSTS or table_at_hand(t)]
    keys = {search_key(search_job(trial)) for trial in trials}
    for key in sorted(keys):
        searches.load(key)
    return teacher


def known_trials(exp: Experiment) -> list[Experiment]:
    """The experiments of the TAS trials whose values are fixed before the sweep starts."""
    sweep = exp.sweep
    if sweep.algorithm != "hyperopt" or not sweep.space:
        return [exp.with_values(values) if values else exp for values in enumerated_points(sweep, exp.seed)]
    journal = sweep_journal(exp)
    earlier = journal.load()[: sweep.num_samples]
    trials = [replayed(exp, values, journal) for values in earlier]
    given = [dict(point) for point in sweep.points_to_evaluate][len(earlier) :]
    return trials + [exp.with_values(values) for values in given]


def replayed(exp: Experiment, values: dict[str, Any], journal: SweepJournal) -> Experiment:
    """A journal point applied to the experiment; one that does not fit it means a damaged journal."""
    try:
        return exp.with_values(values)
    except TasrayError as err:
        raise journal.damaged(f"a point does not fit the experiment: {err}") from None


def search_job(trial: Experiment) -> SearchJob:
    """The search a TAS trial of `trial` runs (the `tas` methods' job)."""
    return SearchJob.of(full_spec(trial), trial.search, trial.data, trial.seed, cost=trial_cost(trial))
