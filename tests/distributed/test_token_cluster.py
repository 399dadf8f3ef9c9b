"""The README's multi-node recipe under Ray's token authentication: two `ray start` nodes, the quickstart.

The cluster is this test's own: its own temp folder and ports, torn down by the pids of the
processes that carry that folder (never `ray stop`, which would stop other jobs' Ray too).
"""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from quickstart_overrides import SMALLEST_QUICKSTART

from tasray.results import read_results

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "experiments" / "quickstart.yaml"
SMALLEST = [*SMALLEST_QUICKSTART, "sweep.max_concurrent=1"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def node_ports() -> list[str]:
    """Every fixed-default port of a node, free ones here: two nodes share this host."""
    flags = ["--node-manager-port", "--object-manager-port", "--metrics-export-port"]
    flags += ["--dashboard-agent-listen-port", "--dashboard-agent-grpc-port", "--runtime-env-agent-port"]
    return [item for flag in flags for item in (flag, str(free_port()))]


def processes_of(marker: str) -> list[int]:
    """Pids whose command line names `marker` (this cluster's temp folder)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return [pid for pid in found if pid != os.getpid()]


@pytest.mark.ray
@pytest.mark.timeout(1500)  # two `ray start`s, then the whole quickstart on them
def test_the_quickstart_runs_on_two_token_auth_nodes_and_a_tokenless_driver_is_told_why(tmp_path):
    temp = tempfile.mkdtemp(prefix="tasray-tok-")  # short: Ray's socket paths must fit 107 bytes
    token = tmp_path / "auth_token"
    token.write_text(secrets.token_hex(16))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)}
    env.pop("RAY_ADDRESS", None)
    head = f"127.0.0.1:{free_port()}"
    ray = [sys.executable, "-m", "ray.scripts.scripts", "start", "--temp-dir", temp, "--disable-usage-stats"]
    ray += ["--node-ip-address", "127.0.0.1", "--num-cpus", "1"]
    try:
        started = subprocess.run(
            [*ray, "--head", "--port", head.split(":")[1], "--include-dashboard", "false", *node_ports()]
            + ["--ray-client-server-port", str(free_port())],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert started.returncode == 0, started.stderr[-2000:]
        joined = subprocess.run(
            [*ray, "--address", head, *node_ports()], env=env, capture_output=True, text=True, timeout=300
        )
        assert joined.returncode == 0, joined.stderr[-2000:]

        store = tmp_path / "store"
        command = [sys.executable, "-m", "tasray", "run", str(QUICKSTART), "--address", head]
        for item in [f"storage_path={store}", *SMALLEST]:
            command += ["--set", item]
        # A driver without the token: one line naming token authentication and the fix.
        tokenless = {**env, "RAY_AUTH_MODE": "disabled", "RAY_AUTH_TOKEN_PATH": str(tmp_path / "none")}
        refused = subprocess.run(command, env=tokenless, capture_output=True, text=True, timeout=300)
        assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert "refused this driver: it uses Ray token authentication" in refused.stderr
        assert "RAY_AUTH_MODE=token" in refused.stderr and not store.exists()

        # A stage that today's cluster cannot hold (2 CPUs per worker, 1 per node): a warning, and
        # the run waits for an autoscaler instead of refusing; Ctrl-C then stops it.
        too_big = [*command, "--set", "resources.cpus_per_worker=2", "--set", f"storage_path={tmp_path}/w"]
        waiting = subprocess.Popen(
            too_big,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        warning = ""
        for warning in waiting.stdout:
            if "cannot hold a stage today" in warning:
                break
        waiting.send_signal(signal.SIGINT)
        out, err = waiting.communicate(timeout=120)
        assert "the run waits for it to grow" in warning, out + err[-2000:]
        assert waiting.returncode == 130, err[-2000:]

        # With the token, as the README's recipe says: the quickstart on both nodes.
        done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, done.stderr[-3000:]
        port = head.split(":")[1]  # the GCS names this host by its own address, not 127.0.0.1
        assert (
            f":{port} (--address): 2 nodes, 2 CPUs" in done.stdout and "joined the Ray cluster" in done.stdout
        )
        trials = sorted(read_results(store / "quickstart").column("trial_id").to_pylist())
        assert trials == ["fixed_ratio-0-kd", "random_search-1-kd", "tas-000", "tas-001"]
    finally:
        for pid in processes_of(temp):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while processes_of(temp) and time.monotonic() < deadline:
            time.sleep(0.2)
        shutil.rmtree(temp, ignore_errors=True)
    assert not processes_of(temp)
