"""`tasray run FILE [--address ADDR] [--set key.path=value ...] [--dry-run [--skip-data-check]] [--verbose]`.

Parses its arguments, runs `tasray.distributed.driver.run_experiment` (or, with --dry-run, only
the checks and a summary) and prints the leaderboard of the experiment. Re-running the same
command resumes an interrupted run (Ctrl-C included).
"""

from __future__ import annotations

import argparse

from tasray.cli import add_overrides_argument, output_console
from tasray.cli.validate import add_skip_data_check_argument, dry_run, print_summary
from tasray.config import load_experiment
from tasray.errors import TasrayError
from tasray.plural import plural
from tasray.preflight import check_run, choose_cluster
from tasray.results import read_results, render_leaderboard


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
    add_skip_data_check_argument(parser)
    parser.add_argument("--verbose", action="store_true", help="show Ray's own logs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.skip_data_check and not args.dry_run:
        raise TasrayError("--skip-data-check needs --dry-run: a run reads the data")
    exp = load_experiment(args.file, args.overrides)
    # Bound to stdout now: Tune's banner is silenced by redirecting sys.stdout during the sweep.
    console = output_console()
    if args.dry_run:
        summary = dry_run(exp, check_data=not args.skip_data_check)
        target = choose_cluster(args.address)
        check_run(exp, target)
        from tasray.distributed.caches import check_caches  # imports Ray Tune: only where needed

        check_caches(exp)
        print_summary(summary, console)
        console.print(f"would run on {target.describe()}")
        return 0
    # Imported here so that validation and --dry-run stay fast and never import Ray.
    from tasray.distributed.driver import run_experiment

    outcome = run_experiment(exp, args.address, console, args.verbose)
    render_leaderboard(read_results(outcome.results), console)
    console.print(f"results: {outcome.results}")
    if outcome.failed:
        console.print(
            f"[red]{plural(outcome.failed, 'trial')} failed[/red]; re-run the same command to retry them."
        )
        return 1
    return 0
