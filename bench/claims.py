"""Every pruning method at small scale on real CIFAR-10 images, over several seeds.

ResNet-20 at R = 0.5: TAS, fixed ratio ("pre-defined"), random search and the Torch-Pruning
criteria (L1, L2, BN scale, Taylor, FPGM, LAMP, random; uniform and global allocation), on the
4,068/1,017-image CIFAR-10 subset in ../shared/data. Every method is retrained with KD; TAS, fixed
ratio and random search also from scratch (the paper's Table 1). One teacher (trained once, seed 0)
serves every seed; each seed finds each method's architecture once. Rows go to a results store, so
`tasray leaderboard` / `tasray report` read the run (mean ± std over the seeds).

    python bench/claims.py [--seeds 0 1 2] [--data PATH] [--storage DIR] ...

The teacher is trained (or read from the store's cache) first; then every seed runs in a process
of its own with one thread (OMP_NUM_THREADS=1), the faster use of a small, busy CPU, logging to
`<storage>/seed-S.log`; `--in-process` runs the seeds one after another in this process instead.
Architectures that come out equal (every uniform criterion keeps the same widths) are retrained
once per seed and transfer: retraining is seeded, so their rows would be equal anyway, except
under `init`, where the kept filters differ, and which this bench does not run.

It prints every row, then mean ± std top-1 per method and transfer, the cost band check, the
two targets (TAS + KD ≥ fixed ratio + KD; KD > scratch for TAS, fixed ratio and random search),
a Markdown table of the means, and the wall and CPU time and load average of the run.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from tasray.config import Experiment
from tasray.engine.jobs import TrainJob
from tasray.engine.pipeline import TrialPlan, find_architecture, get_teacher, retrain_and_record, trial_cost
from tasray.engine.runner import LocalRunner
from tasray.methods import method_label
from tasray.methods.criteria import CRITERIA
from tasray.results import ResultsStore
from tasray.results.schema import TrialRecord

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-subset.npz"
TABLE1 = ("fixed_ratio", "random_search", "tas")  # retrained from scratch and with KD
CRITERIA_METHODS = tuple(f"{c}_{a}" for c in CRITERIA for a in ("uniform", "global"))
METHODS = (*TABLE1, *CRITERIA_METHODS)
EXPERIMENT = "claims-cifar10-resnet20"


def transfers(method: str) -> tuple[str, ...]:
    return ("scratch", "kd") if method in TABLE1 else ("kd",)


def experiment(args: argparse.Namespace, seed: int) -> Experiment:
    settings = {"random_search": {"num_candidates": args.candidates, "train_epochs": args.candidate_epochs}}
    baselines = [
        {"method": method, "transfer": transfer, **settings.get(method, {})}
        for method in METHODS
        if method != "tas"
        for transfer in transfers(method)
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


class SharedRetraining:
    """A runner that trains equal retraining jobs once (same architecture, settings and seed;
    under `init` also the same kept filters) and hands the result to each."""

    def __init__(self, runner: LocalRunner) -> None:
        self.runner, self.done = runner, {}

    def run(self, job):
        if not isinstance(job, TrainJob):
            return self.runner.run(job)
        init = job.settings.transfer == "init"
        kept = tuple(map(tuple, job.kept_channels)) if init and job.kept_channels else None
        key = (job.name, job.spec, job.settings, job.seed, job.train_split, job.eval_split, kept)
        if key not in self.done:
            self.done[key] = self.runner.run(job)
        return self.done[key]


def run_seed(exp: Experiment, teacher, runner: LocalRunner, store: ResultsStore) -> None:
    """Every method once, each architecture retrained with its transfers; rows go to `store`."""
    seed, shared = exp.seed, SharedRetraining(runner)
    plans = [
        TrialPlan(f"tas-{t}-s{seed}", "tas", exp.with_values({"retrain.transfer": t}))
        for t in transfers("tas")
    ]
    plans += [
        TrialPlan(f"{b.method}-{b.transfer}-s{seed}", b.method, exp, i) for i, b in enumerate(exp.baselines)
    ]
    cost, found = trial_cost(exp), {}
    for plan in sorted(plans, key=lambda p: METHODS.index(p.method)):
        if store.read_trial(exp.name, plan.trial_id) is not None:
            continue  # a rerun finishes what an interrupted one left
        started = datetime.now(timezone.utc)
        if plan.method not in found:
            found[plan.method] = find_architecture(plan, teacher, shared, cost)
        store.append(retrain_and_record(plan, found[plan.method], teacher, shared, cost, started))


def mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {spread:.2f}"


def summary(records: list[TrialRecord], console: Console) -> None:
    rows = Table(title="every row (FLOPs = MACs)")
    for column in ("seed", "method", "transfer", "top-1 %", "FLOP ratio", "in band", "search s", "train s"):
        rows.add_column(column)
    for r in sorted(records, key=lambda r: (r.seed, METHODS.index(r.method), r.transfer)):
        rows.add_row(
            str(r.seed), r.method, r.transfer, f"{r.top1:.2f}", f"{r.flop_ratio:.3f}", str(r.in_band),
            f"{r.search_seconds or 0:.0f}", f"{r.train_seconds or 0:.0f}",
        )  # fmt: skip
    console.print(rows)
    top1: dict[tuple[str, str], list[float]] = defaultdict(list)
    ratios: dict[tuple[str, str], list[float]] = defaultdict(list)
    band: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for r in records:
        top1[r.method, r.transfer].append(r.top1)
        ratios[r.method, r.transfer].append(r.flop_ratio)
        band[r.method, r.transfer].append(bool(r.in_band))
    seeds = len({r.seed for r in records})
    table = Table(title=f"mean ± std over {seeds} seeds")
    for column in ("method", "transfer", "top-1 %", "FLOP ratio", "in band"):
        table.add_column(column)
    keys = sorted(top1, key=lambda k: (METHODS.index(k[0]), k[1]))
    for key in keys:
        spread = f"{min(ratios[key]):.3f}–{max(ratios[key]):.3f}"
        table.add_row(*key, mean_std(top1[key]), spread, f"{sum(band[key])} of {len(band[key])}")
    console.print(table)
    mean = {key: statistics.mean(values) for key, values in top1.items()}
    inside = sum(bool(r.in_band) for r in records)
    console.print(f"rows inside the FLOP band (1 ± t)·R: {inside} of {len(records)}")
    if ("tas", "kd") in mean and ("fixed_ratio", "kd") in mean:
        gap = mean["tas", "kd"] - mean["fixed_ratio", "kd"]
        console.print(f"TAS + KD − fixed ratio + KD: {gap:+.2f} points ({'met' if gap >= 0 else 'not met'})")
        kd = sorted((m for m, t in mean if t == "kd"), key=lambda m: -mean[m, "kd"])
        console.print(f"TAS + KD ranks {kd.index('tas') + 1} of {len(kd)} methods by mean KD top-1")
    for method in TABLE1:
        if (method, "scratch") in mean and (method, "kd") in mean:
            gain = mean[method, "kd"] - mean[method, "scratch"]
            console.print(f"KD − scratch, {method}: {gain:+.2f} points ({'met' if gain > 0 else 'not met'})")
    console.out(markdown(keys, top1, ratios, band), highlight=False)


def markdown(keys, top1, ratios, band) -> str:
    """The README's table: one line per method, KD and scratch side by side."""
    lines = ["| method | KD | scratch | FLOP ratio | rows in band |", "|---|---:|---:|---|---|"]
    for method in dict.fromkeys(k[0] for k in keys):
        kd, scratch = top1.get((method, "kd")), top1.get((method, "scratch"))
        spread = [r for t in ("kd", "scratch") for r in ratios.get((method, t), [])]
        inside = [b for t in ("kd", "scratch") for b in band.get((method, t), [])]
        cells = [method_label(method), *(mean_std(v) if v else "–" for v in (kd, scratch))]
        cells += [f"{min(spread):.3f}–{max(spread):.3f}", f"{sum(inside)} of {len(inside)}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_in_processes(args: argparse.Namespace, console: Console) -> None:
    """One process per seed with one thread each; samples the load average while they run."""
    children = []
    for seed in args.seeds:
        argv = [sys.executable, __file__, *sys.argv[1:], "--in-process", "--seeds", str(seed)]
        log = open(args.storage / f"seed-{seed}.log", "w")  # noqa: SIM115 (closed below)
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        children.append((seed, subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env), log))
    loads = []
    while any(child.poll() is None for _, child, _ in children):
        loads.append(os.getloadavg()[0])
        time.sleep(30)
    for seed, child, log in children:
        log.close()
        if child.returncode != 0:
            raise SystemExit(f"claims: seed {seed} failed (status {child.returncode}); see {log.name}")
    if loads:
        console.print(
            f"load average (1 min) while the seeds ran: median {statistics.median(loads):.1f}, "
            f"{min(loads):.1f}–{max(loads):.1f}"
        )


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
    parser.add_argument("--in-process", action="store_true", help="run the seeds one after another here")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"claims: no data set at {args.data} (see ../shared/data/README.md)")
    console, runner = Console(), LocalRunner(progress=args.in_process)
    start = time.perf_counter()
    teacher = get_teacher(experiment(args, seed=0), runner)
    console.print(f"teacher ResNet-20: top-1 {teacher.top1:.2f} % ({teacher.seconds:.0f} s)")
    store = ResultsStore(str(args.storage))
    args.storage.mkdir(parents=True, exist_ok=True)
    if args.in_process or len(args.seeds) == 1:
        for seed in args.seeds:
            run_seed(experiment(args, seed), teacher, runner, store)
            console.print(f"seed {seed} done at {time.perf_counter() - start:.0f} s")
    else:
        run_in_processes(args, console)
    rows = [
        TrialRecord.from_row(row) for row in store.read().to_pylist() if row["experiment_id"] == EXPERIMENT
    ]
    summary([r for r in rows if r.seed in args.seeds], console)
    wall, threads = time.perf_counter() - start, torch.get_num_threads()
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    console.print(f"total {wall:.0f} s wall, {cpu:.0f} s CPU (this process {threads} threads, and its seeds)")


if __name__ == "__main__":
    main()
