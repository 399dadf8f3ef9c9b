"""One Ray Tune run per experiment: the TAS trials of the sweep and every baseline, side by side.

Each Tune trial is a small driver (it reserves no CPU) that runs `run_trial` with a `RayRunner`, so
its stages are TorchTrainers named after the trial id and the trial's config hash. A trial whose
row is already in the results store with the same config hash reports that row instead of
training again, which makes re-running a killed sweep safe: finished work is never repeated, and
a restarted trial resumes its stages from their last checkpoints.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
from typing import Any

from ray import tune
from ray.util.queue import Queue

from tasray.config import Experiment, config_hash
from tasray.distributed.progress import EpochEvents
from tasray.distributed.searcher import METRIC, MODE, PlannedSearcher
from tasray.distributed.train import RayRunner, ray_storage
from tasray.pipeline import Teacher, TrialPlan, run_trial
from tasray.results import ResultsStore


def sweep_name(exp: Experiment) -> str:
    """The Tune run's name: a changed experiment starts a new run instead of restoring an old one."""
    return f"sweep-{config_hash(exp)[:8]}"


def plan_of(exp: Experiment, config: dict[str, Any]) -> TrialPlan:
    """The trial a Tune config (from `PlannedSearcher`) stands for."""
    trial_exp = exp.with_values(config["values"]) if config["values"] else exp
    return TrialPlan(config["trial"], config["method"], trial_exp, config["baseline"])


def plan_hash(plan: TrialPlan) -> str:
    """The config hash a trial's row carries (see `run_trial`)."""
    return config_hash(plan.experiment, plan.method, plan.baseline_index)


def finished_row(store: ResultsStore, plan: TrialPlan) -> dict[str, Any] | None:
    """The trial's stored row if it was produced by this very config, else None."""
    row = store.read_trial(plan.experiment.name, plan.trial_id)
    return row if row is not None and row["config_hash"] == plan_hash(plan) else None


def sweep_trial(
    config: dict[str, Any], exp: Experiment, teacher: Teacher, events: Queue, verbose: bool
) -> None:
    """Tune function trainable: one trial, start to results row, reported once to Tune."""
    plan = plan_of(exp, config)
    store = ResultsStore(exp.storage_path)
    row = finished_row(store, plan)
    resumed = row is not None
    if row is None:
        runner = RayRunner(
            exp.resources,
            exp.storage_path,
            exp.name,
            f"{plan.trial_id}-{plan_hash(plan)[:8]}",
            callbacks=[EpochEvents(events, plan.trial_id)],
            verbose=verbose,
        )
        record = run_trial(plan, teacher, runner)
        store.append(record)
        row = record.to_row()
    events.put(
        {
            "kind": "trial",
            "trial": plan.trial_id,
            "top1": row["top1"],
            "flop_ratio": row["flop_ratio"],
            "in_band": row.get("in_band"),
            "resumed": resumed,
        }
    )
    tune.report({"top1": row["top1"], "top5": row["top5"], "flop_ratio": row["flop_ratio"]})


def run_sweep(exp: Experiment, teacher: Teacher, events: Queue, verbose: bool = False) -> int:
    """Run (or resume) the experiment's Tune run; returns how many trials failed."""
    trainable = tune.with_resources(
        tune.with_parameters(sweep_trial, exp=exp, teacher=teacher, events=events, verbose=verbose),
        # The trial only drives its TorchTrainers, whose workers need the CPUs. Tune needs some
        # resource in a trial's bundle, so it asks for 1 MiB of memory instead of a CPU.
        {"cpu": 0, "memory": 2**20},
    )
    storage = ray_storage(exp.storage_path, exp.name)
    path = posixpath.join(storage, sweep_name(exp))
    if tune.Tuner.can_restore(path):
        tuner = tune.Tuner.restore(path, trainable, resume_errored=True)
    else:
        searcher = PlannedSearcher(exp)
        tuner = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(
                search_alg=searcher,
                metric=METRIC,
                mode=MODE,
                num_samples=searcher.total,
                max_concurrent_trials=exp.sweep.max_concurrent,
            ),
            run_config=tune.RunConfig(
                name=sweep_name(exp), storage_path=storage, verbose=1 if verbose else 0
            ),
        )
    # Tune prints its own banner whatever the verbosity; the run's progress view replaces it.
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with quiet:
        return tuner.fit().num_errors
