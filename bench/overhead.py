"""Where the quickstart's wall time goes: stage compute against framework time.

Runs `tasray run experiments/quickstart.yaml --address local` once, as a user would (a new
process, a new local Ray instance), in a fresh storage folder: a cold start, so the teacher is
trained too. Its wall time is compared with the epochs' own time, which the stages record as
`seconds` per epoch: the teacher's, every TAS search's, the random-search candidates' and every
retraining's, and the latency table's measurement. The bench measures that table first, into the
same store, and times it (a cold run measures it on its driver before Ray starts; this run reads
it): it counts as compute, on its own line, and its time is added to W. The rest is framework
time: Python and Ray start-up, the worker groups' start-up and teardown, data loading and stage
set-up, reports and checkpoints, Tune, and Ray's shutdown.

The trial rows' start and end (taken inside each trial's worker group) split framework time into
what lies inside the trials' worker groups and what lies outside them. The last line is

    quickstart W s; compute share C

    python bench/overhead.py [--set key.path=value ...] [--keep DIR]

`--keep DIR` keeps the run's store, its Ray session folder (the processes are counted from its
logs) and its output (`run.log`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tasray.config import load_experiment, teacher_key
from tasray.engine.latency import resolve_table
from tasray.engine.pipeline import TeacherCache
from tasray.results import read_results

QUICKSTART = Path(__file__).resolve().parents[1] / "experiments" / "quickstart.yaml"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one of the (start, end) intervals (trials may overlap)."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        total += max(0.0, end - max(start, reach))
        reach = max(reach, end)
    return total


def run_quickstart(storage: Path, overrides: list[str]) -> tuple[float, str]:
    """Wall seconds and standard output of one `tasray run` of the quickstart into `storage`, its
    Ray session's files in `<storage>/../ray` (where its worker processes are counted)."""
    env = {**os.environ, "RAY_TMPDIR": str(storage.parent / "ray")}
    command = [sys.executable, "-m", "tasray", "run", str(QUICKSTART), "--address", "local"]
    for item in [f"storage_path={storage}", *overrides]:
        command += ["--set", item]
    start = time.perf_counter()
    # Run from this checkout's root: `python -m` and Ray's workers import tasray from there.
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=QUICKSTART.parents[1])
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"tasray run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def ray_processes(ray_folder: Path) -> tuple[int, int]:
    """Ray worker processes the run started (one core-worker log each), and how many of them were
    Ray Train controllers (one per TorchTrainer)."""
    logs = ray_folder.glob("ray/session_2*/logs")
    processes = sum(len(list(folder.glob("python-core-worker-*.log"))) for folder in logs)
    outputs = ray_folder.glob("ray/session_2*/logs/worker-*.out")
    controllers = sum(":actor_name:TrainController" in path.read_text(errors="replace") for path in outputs)
    return processes, controllers


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--keep", type=Path, help="run into this (new) folder and keep it")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        folder = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="overhead-")))
        report(folder / "store", args.overrides)


def report(storage: Path, overrides: list[str]) -> None:
    """Run the quickstart into `storage` and print where its wall time went."""
    print(f"load average before: {load_average()}")
    exp = load_experiment(QUICKSTART, [f"storage_path={storage}", *overrides])
    started = time.perf_counter()
    resolve_table(exp)
    table = time.perf_counter() - started
    wall, output = run_quickstart(storage, overrides)
    wall += table
    (storage.parent / "run.log").write_text(output)
    print(f"load average after:  {load_average()}")
    teacher = TeacherCache(str(storage)).load(teacher_key(exp))
    rows = read_results(storage / exp.name).to_pylist()
    searches = sum(r["search_seconds"] for r in rows if r["method"] != "random_search")
    candidates = sum(r["search_seconds"] for r in rows if r["method"] == "random_search")
    retraining = sum(r["train_seconds"] for r in rows)
    trials = searches + candidates + retraining
    compute = teacher.seconds + trials + table
    spans = [(r["started_at"].timestamp(), r["finished_at"].timestamp()) for r in rows]
    in_groups = sum(end - start for start, end in spans)
    covered = union_seconds(spans)
    print(
        f"stage compute        {compute:6.1f} s: teacher {teacher.seconds:.1f}, searches {searches:.1f}, "
        f"random-search candidates {candidates:.1f}, retraining {retraining:.1f}, latency table {table:.1f}"
    )
    print(
        f"trial flows          {in_groups:6.1f} s: their stages' compute {trials:.1f}, the rest (data, "
        f"stage set-up, reports, checkpoints) {in_groups - trials:.1f}"
    )
    print(
        f"outside trial flows  {wall - covered:6.1f} s: Python and Ray start-up, the teacher's run, the "
        "latency table, Tune, worker groups' start-up and teardown, shutdown"
    )
    processes, trainers = ray_processes(storage.parent / "ray")
    print(f"Ray worker processes started: {processes}, TorchTrainers: {trainers}")
    print(f"quickstart {wall:.1f} s; compute share {compute / wall:.2f}")


if __name__ == "__main__":
    main()
