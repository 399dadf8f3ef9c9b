"""`tasray run`: bad input stops at the door; a real sweep on Ray survives a killed driver."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import ray
from quickstart_overrides import SMALLEST_QUICKSTART

from tasray.cli import main
from tasray.config import load_experiment, teacher_key
from tasray.engine.latency import table_key
from tasray.results import read_results

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "experiments" / "quickstart.yaml"
MODEL = "name: bad\nmodel: {name: cifar_resnet20}\n"

# Each case: the file's text (storage_path is appended) and words the one-line error must contain.
MALFORMED = {
    "unknown_key": (MODEL + "serch: {epochs: 3}\n", ["unknown key 'serch'"]),
    "ratio_above_one": (MODEL + "search: {target_ratio: 1.5}\n", ["search.target_ratio = 1.5", "(0, 1]"]),
    "one_selected": (MODEL + "search: {num_selected: 1}\n", ["search.num_selected = 1", ">= 2"]),
    "missing_npz": (MODEL + "data: {name: npz, root: nowhere.npz}\n", ["nowhere.npz", "no such"]),
    "unknown_method": (MODEL + "baselines: [{method: magnitude}]\n", ["magnitude", "fixed_ratio"]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_bad_experiment_exits_2_with_one_line_and_writes_nothing(case, tmp_path, capsys):
    text, words = MALFORMED[case]
    store = tmp_path / "store"
    path = tmp_path / "bad.yaml"
    path.write_text(text + f"storage_path: {store}\n")
    before = sorted(tmp_path.iterdir())
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert all(word in err for word in words), err
    assert sorted(tmp_path.iterdir()) == before and not store.exists()
    assert not ray.is_initialized()


def test_dry_run_summarises_without_ray_or_files(tmp_path, capsys):
    store = tmp_path / "store"
    argv = ["run", str(QUICKSTART), "--dry-run", "--address", "local", "--set", f"storage_path={store}"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "quickstart" in out and "trials in all" in out
    assert "would run on a new local Ray instance (--address local)" in out
    assert not store.exists() and not ray.is_initialized()


def test_dry_run_can_skip_the_data_check_like_validate(tmp_path, capsys):
    path = tmp_path / "exp.yaml"
    path.write_text("name: x\nmodel: {name: resnet18}\ndata: {name: imagenet, root: /no/imagenet}\n")
    argv = ["run", str(path), "--dry-run", "--address", "local", "--set", f"storage_path={tmp_path}"]
    assert main(argv) == 2
    assert "no such directory; set data.root (in the file, or --set" in capsys.readouterr().err
    assert main([*argv, "--skip-data-check"]) == 0
    assert "imagenet: 3×224×224, 1000 classes" in capsys.readouterr().out and not ray.is_initialized()


SMALLEST = [*SMALLEST_QUICKSTART, "sweep.max_concurrent=2"]
EXPECTED_TRIALS = ["fixed_ratio-0-kd", "random_search-1-kd", "tas-000", "tas-001"]


def mtimes(paths) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in paths}


def ray_processes(sessions: set[int]) -> set[int]:
    """Pids of Ray's processes (raylet, gcs_server, ray::* workers and agents, the dashboard) in
    `sessions`, this test's own process left out (other jobs' Ray is not ours)."""
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text, command = stat.read_text(), (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        pid, session = int(stat.parent.name), int(text[text.rindex(")") + 2 :].split()[3])
        if session in sessions and pid != os.getpid() and b"ray" in command:
            pids.add(pid)
    return pids


@pytest.mark.ray
@pytest.mark.timeout(1500)  # three runs of the quickstart (one killed) and a refused one
def test_sweep_survives_a_killed_driver_and_a_second_driver(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative storage path: Ray runs trials in other directories
    store = tmp_path / "store"
    overrides = ["storage_path=store", *SMALLEST]
    command = [sys.executable, "-m", "tasray", "run", str(QUICKSTART), "--address", "local"]
    for item in overrides:
        command += ["--set", item]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled"}
    ours = {os.getsid(0)}  # the re-runs' session; the killed driver's is added below
    daemons_before = ray_processes(ours)
    rows = store / "quickstart"

    # 1. Kill the whole driver (its process group, local Ray included) once a trial has its row.
    driver = subprocess.Popen(
        command,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 400
    while not list(rows.glob("*.parquet")) and driver.poll() is None and time.monotonic() < deadline:
        time.sleep(1)
    assert driver.poll() is None, "the run ended before it could be killed"
    # A second driver on the same experiment and store stops at once, naming the first.
    second = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert second.returncode == 2 and len(second.stderr.strip().splitlines()) == 1, second.stderr
    assert f"is being run by another driver (pid {driver.pid} on " in second.stderr
    os.killpg(driver.pid, signal.SIGKILL)
    ours.add(driver.pid)  # a session leader: its session id is its pid
    driver.wait()
    finished_early = mtimes(rows.glob("*.parquet"))
    assert 1 <= len(finished_early) < len(EXPECTED_TRIALS)

    # 2. The same command finishes the sweep without redoing finished trials.
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=500)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert f"took over the lease of a driver that stopped (pid {driver.pid} on " in done.stdout
    table = read_results(rows)
    assert sorted(table.column("trial_id").to_pylist()) == EXPECTED_TRIALS  # none missing, no duplicates
    assert {
        path: mtime for path, mtime in mtimes(rows.glob("*.parquet")).items() if path in finished_early
    } == finished_early
    assert "random search" in done.stdout and "TAS" in done.stdout and "top-1" in done.stdout
    assert "No results yet" not in done.stdout  # the closing leaderboard found the rows
    assert "✓ trial tas-001: top-1" in done.stdout and "tas-001 · search: 1 epoch done" in done.stdout
    exp = load_experiment(QUICKSTART, overrides)
    saved = load_experiment(rows / "_config.yaml")  # with the latency table the driver resolved
    assert saved.latency.table.endswith(f"_latency/{table_key(exp)}/table.json")
    assert saved.model_dump() == exp.with_values({"latency.table": saved.latency.table}).model_dump()
    assert list((store / "_ray").rglob("events.out.tfevents*"))

    # 3. Once more: the cached teacher is reused and no stage or trial runs again.
    teacher_file = store / "_teachers" / teacher_key(exp) / "teacher.pt"
    before = mtimes([teacher_file, *rows.glob("*.parquet")])
    runs_before = sorted(p.name for p in (store / "_ray" / "quickstart").iterdir())
    again = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert mtimes([teacher_file, *rows.glob("*.parquet")]) == before
    assert sorted(p.name for p in (store / "_ray" / "quickstart").iterdir()) == runs_before
    assert "TAS" in again.stdout

    deadline = time.monotonic() + 30  # the daemons of a finished run exit in moments, not at once
    while not ray_processes(ours) <= daemons_before and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [Path(f"/proc/{pid}/cmdline") for pid in ray_processes(ours) - daemons_before]
    assert not left, (
        f"the runs left Ray processes behind: {[p.read_bytes()[:80] for p in left if p.exists()]}"
    )


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` read-only for every process: a read-only bind mount as root (root ignores modes),
    else its folders' write bits cleared."""
    if os.geteuid() == 0:
        # One step: a bind mount made read-only at once. A file the run opens for writing through
        # a half-made (still writable) bind fails it as "busy": undo that bind and try again.
        bind_read_only = ["mount", "--bind", "-o", "ro", folder, folder]
        for _ in range(100):
            done = subprocess.run(bind_read_only, capture_output=True, text=True)
            if done.returncode == 0 or "busy" not in done.stderr:
                break
            subprocess.run(["umount", "-l", folder], capture_output=True)
            time.sleep(0.05)
        if "busy" in done.stderr:
            pytest.fail(f"the store stayed busy: {done.stderr.strip()}")
        if done.returncode:
            pytest.skip(f"root cannot make a folder read-only here: {done.stderr.strip()}")
        try:
            yield
        finally:
            subprocess.run(["umount", "-l", folder], check=True)
        return
    folders = [folder, *(p for p in folder.rglob("*") if p.is_dir())]
    for path in folders:
        path.chmod(0o555)
    try:
        yield
    finally:
        for path in folders:
            path.chmod(0o755)


@pytest.mark.ray
def test_a_store_turned_read_only_mid_run_ends_in_one_line_with_the_rows_intact(tmp_path):
    store = tmp_path / "store"
    command = [sys.executable, "-m", "tasray", "run", str(QUICKSTART), "--address", "local"]
    for item in [f"storage_path={store}", *SMALLEST]:
        command += ["--set", item]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled"}
    rows = store / "quickstart"
    driver = subprocess.Popen(
        command, env=env, cwd=tmp_path, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 400
        while not list(rows.glob("*.parquet")) and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(1)
        assert driver.poll() is None, "the run ended before its store could be made read-only"
        with read_only(store):
            written = mtimes(rows.glob("*.parquet"))
            out, err = driver.communicate(timeout=600)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    assert driver.returncode == 1, err.decode()[-3000:]
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "the store stopped taking writes during the run" in lines[0], lines[-3:]
    assert f"the {len(written)} row" in lines[0] and "re-run the same command to resume" in lines[0]
    assert mtimes(rows.glob("*.parquet")) == written  # nothing written before was lost or touched
    assert len(read_results(rows)) == len(written) < len(EXPECTED_TRIALS)
