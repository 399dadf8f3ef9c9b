"""`tasray leaderboard [PATH]`: pruning methods ranked per data set and model, like Table 3."""

from __future__ import annotations

import argparse
from pathlib import Path

from tasray.cli import output_console
from tasray.costs import COSTS
from tasray.errors import TasrayError
from tasray.results.leaderboard import SORT_KEYS, check_choice
from tasray.results.leaderboard_render import FORMATS, print_leaderboard
from tasray.results.store import read_results


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "leaderboard", help="rank the pruning methods of a results store (rich table)"
    )
    parser.add_argument(
        "path",
        nargs="?",
        default="results",
        help="results store: a folder, one run in it, or a URI (default: results)",
    )
    parser.add_argument("--data-set", help="only this data set, e.g. cifar10")
    parser.add_argument("--model", help="only this source model, e.g. cifar_resnet56")
    parser.add_argument(
        "--sort",
        default="top1",
        help=f"order inside cost buckets: {', '.join(SORT_KEYS)} (latency: measured ms; default top1)",
    )
    parser.add_argument(
        "--cost",
        default="flops",
        help=f"the cost whose ratio buckets the rows: {', '.join(COSTS.names())} (default flops)",
    )
    parser.add_argument(
        "--format", default="table", dest="fmt", help=f"output format: {', '.join(FORMATS)} (default table)"
    )
    parser.add_argument(
        "--per-seed",
        action="store_true",
        help="one row per seed, instead of one per configuration with the mean ± std over its seeds",
    )
    parser.add_argument(
        "--published",
        action="store_true",
        help="also show the paper's published rows of each data set and model (unranked)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Check the flags before touching the store, so a typo fails fast and the same way.
    check_choice(args.sort, list(SORT_KEYS), "sort column")
    check_choice(args.fmt, FORMATS, "format")
    check_choice(args.cost, COSTS.names(), "cost")
    if "://" not in args.path and not Path(args.path).exists():
        raise TasrayError(f"{args.path}: no such results folder (give the storage_path of a run)")
    table = read_results(args.path)
    console = output_console()
    if table.num_rows == 0:
        console.print(f"No results under {args.path} yet (run `tasray run EXPERIMENT.yaml`).")
        return 0
    print_leaderboard(
        table,
        console,
        args.fmt,
        data_set=args.data_set,
        model=args.model,
        sort=args.sort,
        cost=args.cost,
        per_seed=args.per_seed,
        published=args.published,
    )
    return 0
