"""The paper's Table 1 comparison at small scale, on real CIFAR-10 images, over several seeds.

ResNet-20 at R = 0.5: fixed-ratio ("pre-defined"), random search and TAS, each retrained from
scratch and with KD under the same retraining settings, on the 4,068/1,017-image CIFAR-10 subset
in ../shared/data. One teacher (trained once, seed 0) serves every seed; each seed searches once
per method and retrains that architecture with both transfers. Rows go to a results store, so
`tasray leaderboard` / `tasray report` can read the run.

    python bench/claims.py [--seeds 0 1 2] [--data PATH] [--storage DIR] ...

Seeds can also run as separate processes on one storage path (one thread each is the faster use
of a small, busy CPU); the last one to finish summarises every seed in the store.

It prints each row, then mean ± std top-1 per method and transfer, the FLOP band check, and the
two targets: TAS + KD ≥ fixed-ratio + KD, and KD > scratch for every method.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from tasray.config import Experiment
from tasray.engine.pipeline import TrialPlan, find_architecture, get_teacher, retrain_and_record
from tasray.engine.runner import LocalRunner
from tasray.results import ResultsStore
from tasray.results.schema import TrialRecord

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-subset.npz"
TRANSFERS = ("scratch", "kd")
METHODS = ("fixed_ratio", "random_search", "tas")
EXPERIMENT = "claims-cifar10-resnet20"


def experiment(args: argparse.Namespace, seed: int) -> Experiment:
    baselines = [{"method": "fixed_ratio", "transfer": t} for t in TRANSFERS] + [
        {
            "method": "random_search",
            "transfer": t,
            "num_candidates": args.candidates,
            "train_epochs": args.candidate_epochs,
        }
        for t in TRANSFERS
    ]
    return Experiment.model_validate(
        {
            "name": EXPERIMENT,
            "seed": seed,
            "storage_path": str(args.storage),
            "data": {"name": "npz", "root": str(args.data), "batch_size": args.batch_size},
            "model": {"name": "cifar_resnet20"},
            "teacher": {"epochs": args.teacher_epochs},
            "search": {"epochs": args.search_epochs, "target_ratio": args.target},
            "retrain": {"epochs": args.retrain_epochs},
            "baselines": baselines,
        }
    )


def run_seed(exp: Experiment, teacher, runner: LocalRunner, store: ResultsStore) -> None:
    """Every method once, each architecture retrained with both transfers; rows go to `store`."""
    seed = exp.seed
    plans = [
        TrialPlan(f"tas-{t}-s{seed}", "tas", exp.with_values({"retrain.transfer": t})) for t in TRANSFERS
    ]
    plans += [
        TrialPlan(f"{b.method}-{b.transfer}-s{seed}", b.method, exp, i) for i, b in enumerate(exp.baselines)
    ]
    found = {}
    for plan in sorted(plans, key=lambda p: METHODS.index(p.method)):
        started = datetime.now(timezone.utc)
        if plan.method not in found:
            found[plan.method] = find_architecture(plan, teacher, runner)
        store.append(retrain_and_record(plan, found[plan.method], teacher, runner, started))


def mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {spread:.2f}"


def summary(records: list[TrialRecord], console: Console) -> None:
    rows = Table(title="every row (FLOPs = MACs)")
    for column in ("seed", "method", "transfer", "top-1 %", "FLOP ratio", "in band", "search s", "train s"):
        rows.add_column(column)
    for r in records:
        rows.add_row(
            str(r.seed), r.method, r.transfer, f"{r.top1:.2f}", f"{r.flop_ratio:.3f}", str(r.in_band),
            f"{r.search_seconds or 0:.0f}", f"{r.train_seconds or 0:.0f}",
        )  # fmt: skip
    console.print(rows)
    top1: dict[tuple[str, str], list[float]] = defaultdict(list)
    ratios: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in records:
        top1[r.method, r.transfer].append(r.top1)
        ratios[r.method, r.transfer].append(r.flop_ratio)
    table = Table(title=f"mean ± std over {len({r.seed for r in records})} seeds")
    for column in ("method", "transfer", "top-1 %", "FLOP ratio"):
        table.add_column(column)
    for key in sorted(top1, key=lambda k: (METHODS.index(k[0]), k[1])):
        table.add_row(*key, mean_std(top1[key]), f"{min(ratios[key]):.3f}–{max(ratios[key]):.3f}")
    console.print(table)
    mean = {key: statistics.mean(values) for key, values in top1.items()}
    band = sum(bool(r.in_band) for r in records)
    console.print(f"rows inside the FLOP band (1 ± t)·R: {band} of {len(records)}")
    gap = mean["tas", "kd"] - mean["fixed_ratio", "kd"]
    console.print(f"TAS + KD − fixed ratio + KD: {gap:+.2f} points ({'met' if gap >= 0 else 'not met'})")
    for method in METHODS:
        gain = mean[method, "kd"] - mean[method, "scratch"]
        console.print(f"KD − scratch, {method}: {gain:+.2f} points ({'met' if gain > 0 else 'not met'})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--storage", type=Path, default=Path("/tmp/tasray-claims"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--target", type=float, default=0.5)
    parser.add_argument("--teacher-epochs", type=int, default=20)
    parser.add_argument("--search-epochs", type=int, default=8)
    parser.add_argument("--retrain-epochs", type=int, default=4)
    parser.add_argument("--candidates", type=int, default=3)
    parser.add_argument("--candidate-epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"claims: no data set at {args.data} (see ../shared/data/README.md)")
    console, runner = Console(), LocalRunner(progress=True)
    start = time.perf_counter()
    teacher = get_teacher(experiment(args, seed=0), runner)
    console.print(f"teacher ResNet-20: top-1 {teacher.top1:.2f} % ({teacher.seconds:.0f} s)")
    store = ResultsStore(str(args.storage))
    for seed in args.seeds:
        run_seed(experiment(args, seed), teacher, runner, store)
        console.print(f"seed {seed} done at {time.perf_counter() - start:.0f} s")
    # every row of the store, so that seeds run as separate processes are summarised together
    rows = store.read().to_pylist()
    summary([TrialRecord.from_row(row) for row in rows if row["experiment_id"] == EXPERIMENT], console)
    wall, cpu, threads = time.perf_counter() - start, time.process_time(), torch.get_num_threads()
    # CPU time over threads is the wall time this run needs alone on the machine
    console.print(
        f"total {wall:.0f} s wall, {cpu:.0f} s CPU on {threads} threads ({cpu / threads:.0f} s alone)"
    )


if __name__ == "__main__":
    main()
