"""`run_experiment`: one experiment on Ray, from the checks before Ray starts to the results rows.

It checks everything the driver can check (`tasray.preflight`, and the caches it will read),
joins or starts Ray, trains the teacher once (cached by content), runs the sweep of TAS trials and
every baseline as one Ray Tune run, and returns where the rows are. Re-running it resumes an
interrupted run. Progress lines go to `console`; the `tasray run` command only parses its
arguments and prints the outcome.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass
from functools import partial

from rich.console import Console

from tasray.config import CONFIG_FILE, Experiment, save_resolved, teacher_key
from tasray.distributed.caches import check_caches
from tasray.distributed.cluster import ray_session
from tasray.distributed.device_task import on_device, on_worker
from tasray.distributed.download import download_once
from tasray.distributed.progress import ProgressView
from tasray.distributed.ray_log import ray_log_to_file
from tasray.distributed.resume import found_finished
from tasray.distributed.store_check import store_failure
from tasray.distributed.sweep import run_sweep
from tasray.distributed.train import RayRunner
from tasray.engine.health import run_warnings
from tasray.engine.latency import device_here, read_table, resolve_table
from tasray.engine.pipeline import Teacher, get_teacher, load_teacher_checkpoint
from tasray.io import storage
from tasray.io.lease import driver_lease
from tasray.plural import plural
from tasray.preflight import ClusterTarget, check_inputs, check_run, choose_cluster


@dataclass(frozen=True)
class ExperimentRun:
    """What a finished `run_experiment` leaves.

    Args:
        results: the experiment's folder of results rows (`tasray leaderboard` reads it).
        teacher_top1: the unpruned network's test top-1, percent.
        failed: trials that failed; re-running resumes them.
    """

    results: str
    teacher_top1: float
    failed: int


def run_experiment(
    exp: Experiment, address: str | None = None, console: Console | None = None, verbose: bool = False
) -> ExperimentRun:
    """Run (or resume) `exp` on the Ray cluster `address` picks (see `tasray.preflight.cluster`).

    Args:
        exp: a validated experiment.
        address: ``host:port``, ``ray://host:port``, ``auto`` or ``local``; None follows Ray's rule.
        console: where progress lines go (None: nowhere).
        verbose: show Ray's own logs.

    Raises:
        TasrayError: bad input found before Ray starts (data, checkpoint, storage, cluster), or
            another driver running the same experiment on the same store.
        RunFailed: the store stopped taking writes during the run (rows written before are kept).
    """
    console = console or Console(file=io.StringIO())
    check_inputs(exp)
    target = choose_cluster(address)
    check_run(exp, target)
    cached_teacher = check_caches(exp)
    with driver_lease(exp.storage_path, exp.name) as replaced:
        if replaced is not None:
            console.print(f"took over the lease of a driver that stopped ({replaced.describe(time.time())})")
        try:
            outcome = run_held(exp, target, cached_teacher, console, verbose)
        except Exception:
            if failure := store_failure(exp):  # a store gone read-only: one line, not the trace
                raise failure from None
            raise
        if outcome.failed and (failure := store_failure(exp)):
            raise failure
        return outcome


def run_held(
    exp: Experiment, target: ClusterTarget, cached_teacher: Teacher | None, console: Console, verbose: bool
) -> ExperimentRun:
    """The rest of `run_experiment`, once this driver holds the experiment's lease."""
    # Ctrl-C must raise KeyboardInterrupt in the driver (one line, exit 130, Ray shut down), not
    # trigger Tune's own stop-and-return; the Tune run's saved state makes a re-run resume.
    os.environ.setdefault("TUNE_DISABLE_SIGINT_HANDLER", "1")
    tas, baselines = exp.sweep.num_tas_trials, len(exp.baselines)
    console.print(
        f"[bold]{exp.name}[/bold]: {plural(tas + baselines, 'trial')} "
        f"({tas} TAS, {plural(baselines, 'baseline')})"
    )
    if earlier := found_finished(exp, cached_teacher is not None):
        console.print(earlier)
    exp = download_once(exp, console)
    with (
        ray_session(target, exp.resources, verbose) as cluster,
        ray_log_to_file(exp.name, verbose) as ray_log,
        ProgressView(console) as view,
    ):
        if cluster is not None:
            console.print(cluster.describe())
            if cluster.shortfall:
                console.print(
                    f"[yellow]⚠ the cluster cannot hold a stage today ({cluster.shortfall}); "
                    "the run waits for it to grow (an autoscaler), Ctrl-C stops it[/yellow]",
                    soft_wrap=True,  # one line in a log file too
                )
            if cluster.dashboard:
                console.print(f"Ray dashboard: http://{cluster.dashboard}")
        if ray_log:
            console.print(f"Ray's own messages: {ray_log} (--verbose shows them)")
        teacher_run = f"teacher-{teacher_key(exp)[:8]}"
        teacher_runner = RayRunner(
            exp.resources, exp.storage_path, exp.name, teacher_run, [view.callback("teacher")], verbose
        )
        # A given checkpoint is scored where a stage's worker would run (a GPU node), not here.
        score_on_worker = partial(on_worker, load_teacher_checkpoint, exp.resources)
        teacher = cached_teacher or get_teacher(exp, teacher_runner, score_on_worker)
        console.print(f"teacher {exp.model.name}: top-1 {teacher.top1:.2f}%")
        for warning in run_warnings(exp, teacher):
            console.print(f"[yellow]⚠ {warning}[/yellow]", highlight=False, soft_wrap=True)
        exp = with_latency_table(exp, console)
        config_file = save_resolved(exp, storage.join(exp.storage_path, exp.name, CONFIG_FILE))
        console.print(f"resolved config: {config_file}")
        failed = run_sweep(exp, teacher, view.queue, verbose)
    return ExperimentRun(storage.join(exp.storage_path, exp.name), teacher.top1, failed)


def with_latency_table(exp: Experiment, console: Console) -> Experiment:
    """`exp` with `latency.table` set to its table, measured first where it is missing: here, or
    on a node of the cluster that has `latency.device`. Every trial then reads the same table."""
    resolve = resolve_table if device_here(exp.latency.device) else partial(on_device, resolve_table, "cuda")
    started = time.perf_counter()
    path = resolve(exp)
    seconds = time.perf_counter() - started
    console.print(f"latency table: {read_table(path).describe()} ({seconds:.1f} s; {path})")
    return exp.with_values({"latency.table": path})
