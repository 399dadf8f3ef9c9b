"""`tasray run FILE [--address ADDR] [--set key.path=value ...] [--dry-run] [--verbose]`.

Checks everything the driver can check (config, data files, checkpoint, storage path, cluster
address and devices, the caches it will read: `tasray.preflight`) before touching Ray or writing
to the storage path, says which Ray cluster it runs on, trains the teacher once (cached), runs the
sweep of TAS trials and baselines as one Ray Tune run, and prints the leaderboard of this
experiment. Re-running the same command resumes an interrupted run (Ctrl-C included).
"""

from __future__ import annotations

import argparse
import os

from tasray import storage
from tasray.cli import add_overrides_argument, output_console
from tasray.cli.validate import dry_run, print_summary
from tasray.config import load_experiment, save_resolved, teacher_key
from tasray.preflight import check_run, choose_cluster
from tasray.results import read_results, render_leaderboard

CONFIG_FILE = "_config.yaml"  # beside the rows; readers of the store skip names starting with "_"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run an experiment on Ray: teacher, TAS sweep and baselines")
    parser.add_argument("file", help="experiment YAML, e.g. experiments/quickstart.yaml")
    parser.add_argument(
        "--address",
        help="Ray cluster to join: host:port, ray://host:port, auto, or local (a new local instance). "
        "Default: $RAY_ADDRESS, else the cluster `ray start` recorded in /tmp/ray, else a new local one",
    )
    add_overrides_argument(parser)
    parser.add_argument("--dry-run", action="store_true", help="validate and summarise; start nothing")
    parser.add_argument("--verbose", action="store_true", help="show Ray's own logs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    exp = load_experiment(args.file, args.overrides)
    summary = dry_run(exp, check_data=True)
    target = choose_cluster(args.address)
    check_run(exp, target)
    # Imported here, as Ray below, so that the other commands start fast (it imports Ray Tune).
    from tasray.preflight.caches import check_caches

    cached_teacher = check_caches(exp)
    # Bound to stdout now: Tune's banner is silenced by redirecting sys.stdout during the sweep.
    console = output_console()
    if args.dry_run:
        print_summary(summary, console)
        console.print(f"would run on {target.describe()}")
        return 0
    # Imported here so that validation and --dry-run stay fast and never start Ray.
    from tasray.distributed.cluster import ray_session
    from tasray.distributed.progress import ProgressView
    from tasray.distributed.sweep import run_sweep
    from tasray.distributed.train import RayRunner, ray_storage
    from tasray.distributed.tune_metrics import StageEventFile
    from tasray.pipeline import get_teacher

    # Ctrl-C must raise KeyboardInterrupt in the driver (one line, exit 130, Ray shut down), not
    # trigger Tune's own stop-and-return; the Tune run's saved state makes a re-run resume.
    os.environ.setdefault("TUNE_DISABLE_SIGINT_HANDLER", "1")
    console.print(
        f"[bold]{exp.name}[/bold]: {summary.total_trials} trials "
        f"({summary.tas_trials} TAS, {len(summary.baselines)} baselines)"
    )
    with ray_session(target, exp.resources, args.verbose) as cluster, ProgressView(console) as view:
        if cluster is not None:
            console.print(cluster.describe())
            if cluster.dashboard:
                console.print(f"Ray dashboard: http://{cluster.dashboard}")
        teacher_run = f"teacher-{teacher_key(exp)[:8]}"
        callbacks = [view.callback("teacher")]
        if "://" not in exp.storage_path:  # TensorBoard files are written with local file I/O
            curves = storage.join(ray_storage(exp.storage_path, exp.name), f"{teacher_run}-tensorboard")
            callbacks.append(StageEventFile(curves))
        teacher_runner = RayRunner(
            exp.resources, exp.storage_path, exp.name, teacher_run, callbacks=callbacks, verbose=args.verbose
        )
        teacher = cached_teacher or get_teacher(exp, teacher_runner)
        console.print(f"teacher {exp.model.name}: top-1 {teacher.top1:.2f}%")
        config_file = save_resolved(exp, storage.join(exp.storage_path, exp.name, CONFIG_FILE))
        console.print(f"resolved config: {config_file}")
        failed = run_sweep(exp, teacher, view.queue, args.verbose)
    results = storage.join(exp.storage_path, exp.name)
    render_leaderboard(read_results(results), console)
    console.print(f"results: {results}")
    if failed:
        console.print(f"[red]{failed} trial(s) failed[/red]; re-run the same command to retry them.")
        return 1
    return 0
