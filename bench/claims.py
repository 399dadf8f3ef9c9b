"""The paper's Table 1 comparison at small scale, on real CIFAR-10 images.

ResNet-20 at about 50 % FLOPs: fixed-ratio ("pre-defined"), random search and TAS, each retrained
from scratch and with KD, on the 4,068/1,017-image CIFAR-10 subset in ../shared/data. Each method
searches once; its architecture is retrained with both transfers. Rows also go to a results store,
so `tasray leaderboard` / `tasray report` can read the run.

    python bench/claims.py [--data PATH] [--storage DIR] [--teacher-epochs 20] ...

Short runs need a larger architecture learning rate than the paper's 1e-3 (which is paired with
~60k architecture steps; this run takes under 1k) and a tolerance t = 0.1: both are flags.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from tasray.config import Experiment
from tasray.pipeline import TrialPlan, find_architecture, get_teacher, retrain_and_record
from tasray.results import ResultsStore, read_results, render_leaderboard
from tasray.runner import LocalRunner

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-subset.npz"
TRANSFERS = ("scratch", "kd")
METHODS = ("fixed_ratio", "random_search", "tas")


def experiment(args: argparse.Namespace) -> Experiment:
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
            "name": "claims-cifar10-resnet20",
            "seed": args.seed,
            "storage_path": str(args.storage),
            "data": {"name": "npz", "root": str(args.data), "batch_size": args.batch_size},
            "model": {"name": "cifar_resnet20"},
            "teacher": {"epochs": args.teacher_epochs},
            "search": {
                "epochs": args.search_epochs,
                "target_ratio": args.target,
                "tolerance": args.tolerance,
                "arch_lr": args.arch_lr,
            },
            "retrain": {"epochs": args.retrain_epochs},
            "baselines": baselines,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--storage", type=Path, default=Path("/tmp/tasray-claims"))
    parser.add_argument("--target", type=float, default=0.5)
    parser.add_argument("--tolerance", type=float, default=0.1)
    parser.add_argument("--arch-lr", type=float, default=0.05)
    parser.add_argument("--teacher-epochs", type=int, default=20)
    parser.add_argument("--search-epochs", type=int, default=20)
    parser.add_argument("--retrain-epochs", type=int, default=15)
    parser.add_argument("--candidates", type=int, default=6)
    parser.add_argument("--candidate-epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"claims: no data set at {args.data} (see ../shared/data/README.md)")
    exp = experiment(args)
    console, runner = Console(), LocalRunner(progress=True)
    start = time.perf_counter()
    teacher = get_teacher(exp, runner)
    console.print(f"teacher ResNet-20: top-1 {teacher.top1:.2f} % ({teacher.seconds:.0f} s)")
    plans = [TrialPlan(f"tas-{t}", "tas", exp.with_values({"retrain.transfer": t})) for t in TRANSFERS]
    plans += [TrialPlan(f"{b.method}-{b.transfer}", b.method, exp, i) for i, b in enumerate(exp.baselines)]
    found, store = {}, ResultsStore(exp.storage_path)
    table = Table(title=f"ResNet-20 on the CIFAR-10 subset, target R = {args.target} (FLOPs = MACs)")
    for column in ("method", "transfer", "top-1 %", "MFLOPs", "ratio", "search s", "train s"):
        table.add_column(column, justify="left" if column in ("method", "transfer") else "right")
    for plan in sorted(plans, key=lambda p: METHODS.index(p.method)):
        started = datetime.now(timezone.utc)
        if plan.method not in found:
            found[plan.method] = find_architecture(plan, teacher, runner)
        record = retrain_and_record(plan, found[plan.method], teacher, runner, started)
        store.append(record)
        table.add_row(
            plan.method,
            plan.transfer,
            f"{record.top1:.2f}",
            f"{record.flops / 1e6:.2f}",
            f"{record.flop_ratio:.3f}",
            f"{record.search_seconds:.0f}",
            f"{record.train_seconds:.0f}",
        )
    console.print(table)
    render_leaderboard(read_results(Path(exp.storage_path) / exp.name), console)
    console.print(f"total {time.perf_counter() - start:.0f} s on {torch.get_num_threads()} threads")


if __name__ == "__main__":
    main()
