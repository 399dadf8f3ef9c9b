"""Latency as the target: does pruning to R of the measured latency land at R when timed?

For ResNet-56 at R = 0.5 on this machine's CPU (batch 1, the fixed protocol of
`tasray.costs.timing`): a latency table of the search space is measured (and cached in
`--storage`), then four networks are found: TAS searched against the table (a short search on the
CIFAR-10 subset in ../shared/data), fixed-ratio pruning whose uniform keep ratio meets R on the
table (bisection), and, for comparison, TAS and fixed-ratio pruning at R of the FLOPs. Each
network is then timed whole with the unpruned one, in the same interleaved rounds, independently
of the table. Printed per network: the table's ratio and the measured one, |measured/R − 1|, and
the table's additivity error (its prediction / the measured latency − 1). The last line is

    latency target 0.50: measured TAS X, fixed ratio Y; worst |measured/target - 1| Z; FLOP-targeted worst W

    python bench/latency_target.py [--target 0.5] [--search-epochs 3] [--rounds 200] [--storage DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from baselines.fixed_ratio import fixed_ratio_spec
from tasray.config import Experiment
from tasray.costs.flops import FlopsCost, flop_ratio
from tasray.costs.latency import LatencyCost
from tasray.costs.timing import TimingProtocol, time_networks
from tasray.engine.jobs import SearchJob
from tasray.engine.latency import experiment_spec, experiment_table
from tasray.engine.runner import LocalRunner
from tasray.engine.search_cache import CachedSearches, SearchCache

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-subset.npz"


def experiment(args: argparse.Namespace) -> Experiment:
    return Experiment.model_validate(
        {
            "name": "latency-target",
            "seed": args.seed,
            "storage_path": str(args.storage),
            "data": {"name": "npz", "root": str(args.data), "batch_size": args.batch_size},
            "model": {"name": args.model},
            "search": {"epochs": args.search_epochs, "target_ratio": args.target},
            "latency": {"device": "cpu", "batch": 1, "table_rounds": args.table_rounds},
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="cifar_resnet56")
    parser.add_argument("--target", type=float, default=0.5)
    parser.add_argument("--search-epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--table-rounds", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=200, help="timed rounds of the whole networks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--storage", type=Path, default=Path("bench-results"))
    args = parser.parse_args()
    console = Console()
    exp = experiment(args)

    started = time.perf_counter()
    table = experiment_table(exp)
    console.print(f"latency table: {table.describe()} ({time.perf_counter() - started:.0f} s with the cache)")
    full, latency, flops = experiment_spec(exp), LatencyCost(table), FlopsCost()
    runner = CachedSearches(LocalRunner(progress=False), SearchCache(exp.storage_path))

    def searched(cost) -> object:
        job = SearchJob.of(full, exp.search, exp.data, exp.seed, cost=cost)
        begun = time.perf_counter()
        result = runner.run(job)
        console.print(
            f"TAS against {cost.label}: {time.perf_counter() - begun:.0f} s, epoch {result.selected_epoch}"
        )
        return result.spec

    networks = {
        ("latency", "TAS"): searched(latency),
        ("latency", "fixed ratio"): fixed_ratio_spec(full, args.target, latency),
        ("FLOPs", "TAS"): searched(flops),
        ("FLOPs", "fixed ratio"): fixed_ratio_spec(full, args.target, flops),
    }
    protocol = TimingProtocol("cpu", "cpu", rounds=args.rounds)
    unpruned, *timings = time_networks([full, *networks.values()], 1, protocol)

    report = Table(title=f"{args.model}, R = {args.target} · batch 1 · {table.device} ({table.device_name})")
    for header in (
        "target",
        "network",
        "FLOP ratio",
        "latency ratio, table",
        "measured",
        "|measured/R − 1|",
        "ms, table",
        "ms, measured",
        "additivity",
    ):
        report.add_column(header, justify="left" if header in ("target", "network") else "right")
    predicted_full = table.network_seconds(full)
    report.add_row(
        "–",
        "unpruned",
        "1.000",
        "1.000",
        "1.000",
        "–",
        f"{predicted_full * 1e3:.3g}",
        unpruned.describe(),
        f"{predicted_full / unpruned.best - 1:+.1%}",
    )
    misses: dict[str, list[float]] = {"latency": [], "FLOPs": []}
    measured: dict[tuple[str, str], float] = {}
    for (target, name), timing in zip(networks, timings, strict=True):
        spec = networks[(target, name)]
        ratio = timing.best / unpruned.best
        measured[(target, name)] = ratio
        misses[target].append(abs(ratio / args.target - 1))
        predicted = table.network_seconds(spec)
        report.add_row(
            target,
            name,
            f"{flop_ratio(spec):.3f}",
            f"{latency.ratio(spec):.3f}",
            f"{ratio:.3f}",
            f"{misses[target][-1]:.3f}",
            f"{predicted * 1e3:.3g}",
            timing.describe(),
            f"{predicted / timing.best - 1:+.1%}",
        )
    console.print(report)
    console.print(
        f"latency target {args.target:.2f}: measured TAS {measured[('latency', 'TAS')]:.3f}, "
        f"fixed ratio {measured[('latency', 'fixed ratio')]:.3f}; worst |measured/target - 1| "
        f"{max(misses['latency']):.3f}; FLOP-targeted worst {max(misses['FLOPs']):.3f}"
    )


if __name__ == "__main__":
    main()
