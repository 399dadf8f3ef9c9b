"""One Ray Tune run per experiment: the TAS trials of the sweep and every baseline, side by side.

Each Tune trial is a small driver (it reserves no CPU) that runs the whole of `run_trial` (method,
then retraining) in one TorchTrainer named after the trial id and its trial key. A trial whose row is
already in the results store with the same trial key reports that row instead of training again,
which makes re-running a killed or enlarged sweep safe: finished work is never repeated, and a
restarted trial skips its finished stages and resumes the current one from its last checkpoint; a
finished trial's checkpoints are deleted (its row, model and TensorBoard curves stay). A trial
reports to Tune once, at its end: its top-1 and cost ratio, which the sampler receives.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
from typing import Any

import ray
from ray import tune
from ray.util.queue import Queue

from tasray.config import Experiment, config_hash, sweep_key, trial_key
from tasray.distributed.flows import TrialFlow
from tasray.distributed.journal import SweepJournal
from tasray.distributed.locks import RayKeyLock
from tasray.distributed.progress import EpochEvents
from tasray.distributed.searcher import PlannedSearcher
from tasray.distributed.train import RayRunner, ray_storage
from tasray.engine.pipeline import Teacher, TrialPlan
from tasray.results import ResultsStore


def sweep_name(exp: Experiment) -> str:
    """The Tune run's name: a changed sweep (a new size too) starts a new run instead of restoring one."""
    return f"sweep-{config_hash(sweep_key(exp), exp.sweep.num_samples)[:8]}"


def sweep_journal(exp: Experiment) -> SweepJournal:
    """The sampler's points, shared by every size of the same sweep."""
    folder = ray_storage(exp.storage_path, exp.name)
    return SweepJournal(posixpath.join(folder, f"points-{sweep_key(exp)[:8]}.json"))


def plan_of(exp: Experiment, config: dict[str, Any]) -> TrialPlan:
    """The trial a Tune config (from `PlannedSearcher`) stands for."""
    trial_exp = exp.with_values(config["values"]) if config["values"] else exp
    return TrialPlan(config["trial"], config["method"], trial_exp, config["baseline"])


def plan_key(plan: TrialPlan) -> str:
    """The trial key a trial's row carries (its `config_hash` column)."""
    return trial_key(plan.experiment, plan.method, plan.baseline_index)


def finished_row(store: ResultsStore, plan: TrialPlan) -> dict[str, Any] | None:
    """The trial's stored row if it was produced by this very trial, else None."""
    row = store.read_trial(plan.experiment.name, plan.trial_id)
    return row if row is not None and row["config_hash"] == plan_key(plan) else None


def concurrent_trials(exp: Experiment) -> int:
    """`sweep.max_concurrent`, or how many trials' workers the cluster's CPUs (and GPUs) hold at once."""
    if exp.sweep.max_concurrent is not None:
        return exp.sweep.max_concurrent
    r, cluster = exp.resources, ray.cluster_resources()
    fits = int(cluster.get("CPU", 0) // (r.num_workers * r.cpus_per_worker))
    if r.use_gpu:
        fits = min(fits, int(cluster.get("GPU", 0) // (r.num_workers * r.gpus_per_worker)))
    return max(1, fits)


def sweep_trial(
    config: dict[str, Any], exp: Experiment, teacher: Teacher, events: Queue, lock: RayKeyLock, verbose: bool
) -> None:
    """Tune function trainable: one trial, start to results row; its last result is its row's scores."""
    plan = plan_of(exp, config)
    store = ResultsStore(exp.storage_path)
    runner = RayRunner(
        exp.resources,
        exp.storage_path,
        exp.name,
        f"{plan.trial_id}-{plan_key(plan)[:8]}",
        callbacks=[EpochEvents(events, plan.trial_id)],
        verbose=verbose,
    )
    row = finished_row(store, plan)
    resumed = row is not None
    if row is None:
        record = runner.run_flow(TrialFlow(plan, teacher, lock.for_owner(plan.trial_id)))
        store.append(record)
        row = record.to_row()
    runner.discard()  # the row and the trial's model are kept: its checkpoints are not needed now
    events.put(
        {
            "kind": "trial",
            "trial": plan.trial_id,
            "top1": row["top1"],
            "cost": row["cost"],
            "cost_ratio": row["cost_ratio"],
            "in_band": row.get("in_band"),
            "resumed": resumed,
        }
    )
    tune.report({"top1": row["top1"], "top5": row["top5"], "cost_ratio": row["cost_ratio"]})


def run_sweep(exp: Experiment, teacher: Teacher, events: Queue, verbose: bool = False) -> int:
    """Run (or resume) the experiment's Tune run; returns how many trials failed."""
    trainable = tune.with_resources(
        tune.with_parameters(
            sweep_trial, exp=exp, teacher=teacher, events=events, lock=RayKeyLock(), verbose=verbose
        ),
        # The trial only drives its TorchTrainers, whose workers need the CPUs. Tune needs some
        # resource in a trial's bundle, so it asks for 1 MiB of memory instead of a CPU.
        {"cpu": 0, "memory": 2**20},
    )
    storage = ray_storage(exp.storage_path, exp.name)
    path = posixpath.join(storage, sweep_name(exp))
    if tune.Tuner.can_restore(path):
        tuner = tune.Tuner.restore(path, trainable, resume_errored=True)
    else:
        searcher = PlannedSearcher(exp, sweep_journal(exp))
        tuner = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(
                search_alg=searcher,
                num_samples=searcher.total,
                max_concurrent_trials=concurrent_trials(exp),
                # The next trial runs in the process of a finished one: no process start, no imports.
                reuse_actors=True,
            ),
            run_config=tune.RunConfig(
                name=sweep_name(exp),
                storage_path=storage,
                verbose=1 if verbose else 0,
                # A trial driver that dies (its node lost) is restarted; its stages resume.
                failure_config=tune.FailureConfig(max_failures=exp.resources.trial_max_failures),
            ),
        )
    # Tune prints its own banner whatever the verbosity; the run's progress view replaces it.
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with quiet:
        return tuner.fit().num_errors
