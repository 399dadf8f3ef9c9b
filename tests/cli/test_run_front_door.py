"""`tasray run` on Ray: relative paths work from where it was started, the cluster is named before
any work, and Ctrl-C stops it with one line and status 130, after which the same command resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from tasray.models import PrunedResNet
from tasray.results import read_results
from tasray.spec.arch import ArchSpec

ROOT = Path(__file__).resolve().parents[2]
INTERRUPTED = "tasray: interrupted; re-running the same command resumes"


def tiny_project(folder: Path, teacher: str) -> Path:
    """An npz data set, a teacher checkpoint and an experiment that names both relatively."""
    rng = np.random.default_rng(0)
    (folder / "data").mkdir(parents=True)
    np.savez(
        folder / "data" / "tiny.npz",
        x_train=rng.integers(0, 256, (96, 8, 8, 1), dtype=np.uint8),
        y_train=np.arange(96) % 3,
        x_test=rng.integers(0, 256, (30, 8, 8, 1), dtype=np.uint8),
        y_test=np.arange(30) % 3,
    )
    (folder / "ckpt").mkdir()
    spec = ArchSpec.full("cifar_resnet20", 3, 1, (8, 8))
    torch.save(PrunedResNet(spec).state_dict(), folder / "ckpt" / "teacher.pt")
    config = folder.parent / "configs" / "tiny.yaml"  # the experiment file lives elsewhere
    config.parent.mkdir(exist_ok=True)
    config.write_text(
        "name: tiny\nstorage_path: store\n"
        "data: {name: npz, root: data/tiny.npz, batch_size: 32, eval_batch_size: 64}\n"
        "model: {name: cifar_resnet20}\n"
        f"teacher: {teacher}\n"
        "search: {variant: tas_w, epochs: 1}\nretrain: {epochs: 40, transfer: scratch}\n"
    )
    return config


def command(config: Path) -> list[str]:
    return [sys.executable, "-m", "tasray", "run", str(config), "--address", "local"]


def environment() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled", "PYTHONUNBUFFERED": "1"}
    env.pop("RAY_ADDRESS", None)
    return env


def session_processes(session: int) -> list[str]:
    """Names of live processes in a session (the driver's, and Ray's daemons it started)."""
    names = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[3]) == session and fields[0] != "Z":
            names.append(text[text.index("(") + 1 : text.rindex(")")])
    return names


def sigint_as_in_a_terminal() -> None:
    """A terminal's foreground command gets SIGINT's default action. A command run in the background
    of a non-interactive shell (`bash .ci/run &`) inherits SIGINT ignored, and so would the driver:
    Python keeps an ignored SIGINT ignored, and the interrupt would never arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    """Whether `condition` came true within `seconds` (polled: it is a state to see, not a line)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def interrupt_when(config: Path, cwd: Path, marker: str) -> subprocess.CompletedProcess:
    """Run the command, send SIGINT as soon as `marker` appears on stdout, and wait for it."""
    driver = subprocess.Popen(
        command(config),
        cwd=cwd,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=sigint_as_in_a_terminal,
    )
    lines = []
    for line in driver.stdout:
        lines.append(line)
        if marker in line:
            break
    assert driver.poll() is None, "".join(lines) + driver.stderr.read()
    sent = time.monotonic()
    driver.send_signal(signal.SIGINT)
    try:
        out, err = driver.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(driver.pid, signal.SIGKILL)  # never leave a training run behind a failed test
        raise
    assert time.monotonic() - sent < 60
    gone = wait_until(lambda: session_processes(driver.pid) == [], 30)
    assert gone, f"Ray processes outlived the interrupted driver: {session_processes(driver.pid)}"
    return subprocess.CompletedProcess(driver.args, driver.returncode, "".join(lines) + out, err)


@pytest.mark.ray
def test_relative_paths_from_another_cwd_and_ctrl_c_resumes(tmp_path: Path) -> None:
    project = tmp_path / "project"
    config = tiny_project(project, "{checkpoint: ckpt/teacher.pt, epochs: 0}")

    # 1. Ctrl-C while the sweep runs on Ray (a trial's retraining has its first epoch): one line,
    # status 130, Ray shut down.
    stopped = interrupt_when(config, project, "tas_w-000 · retrain: running, epoch 1 of 40 done")
    assert stopped.returncode == 130, stopped.stderr[-2000:]
    assert stopped.stderr.strip().splitlines() == [INTERRUPTED]
    assert (
        "started a local Ray instance at" in stopped.stdout and "(--address local): 1 node" in stopped.stdout
    )

    teacher = next((project / "store" / "_teachers").rglob("teacher.pt"))
    cached = teacher.stat().st_mtime_ns

    # 2. The same command, from the same folder, resumes and finishes; every relative path held.
    done = subprocess.run(
        command(config), cwd=project, env=environment(), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = read_results(project / "store" / "tiny")
    assert rows.column("trial_id").to_pylist() == ["tas_w-000"]
    assert teacher.stat().st_mtime_ns == cached  # the cached teacher was reused
    assert len(list((project / "store" / "_ray" / "tiny").glob("sweep-*"))) == 1  # one Tune run, resumed
    assert rows.column("data_set").to_pylist() == ["tiny"]  # an npz set is named by its file's stem
    assert not (project / "configs").exists() and (project / "store" / "_ray").is_dir()


@pytest.mark.ray
def test_ctrl_c_while_the_teacher_trains(tmp_path: Path) -> None:
    project = tmp_path / "project"
    config = tiny_project(project, "{epochs: 200}")
    stopped = interrupt_when(config, project, "teacher · teacher: running, epoch 1 of 200 done")
    assert stopped.returncode == 130, stopped.stderr[-2000:]
    assert stopped.stderr.strip().splitlines() == [INTERRUPTED]
