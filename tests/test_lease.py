"""The driver lease: one holder at a time across processes, a dead holder taken over, any store."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tasray.errors import TasrayError
from tasray.io import lease
from tasray.io.lease import driver_lease, lease_path, read_holder

ROOT = Path(__file__).resolve().parents[1]
# Holds the lease, says so on stdout, and keeps it until its stdin closes.
HOLDER = (
    "import sys; from tasray.io.lease import driver_lease\n"
    "with driver_lease(sys.argv[1], 'exp'):\n"
    "    print('held', flush=True); sys.stdin.read()\n"
)


def start_holder(store: str) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, store],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout.readline() == "held\n"
    return child


def test_a_second_driver_stops_with_one_line_naming_the_first(tmp_path):
    store = str(tmp_path)
    child = start_holder(store)
    try:
        with pytest.raises(TasrayError) as refused, driver_lease(store, "exp"):
            pytest.fail("two drivers held the lease")
        message = str(refused.value)
        assert "\n" not in message
        assert f"experiment 'exp' is being run by another driver (pid {child.pid} on " in message
        with driver_lease(store, "other"):  # another experiment on the same store is not blocked
            pass
    finally:
        child.stdin.close()
        assert child.wait(timeout=30) == 0
    assert read_holder(lease_path(store, "exp")) is None  # released on the way out
    with driver_lease(store, "exp") as replaced:
        assert replaced is None


def test_the_lease_of_a_killed_driver_is_taken_over(tmp_path):
    store = str(tmp_path)
    child = start_holder(store)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert read_holder(lease_path(store, "exp")).pid == child.pid  # left behind
    with driver_lease(store, "exp") as replaced:
        assert replaced.pid == child.pid
        assert read_holder(lease_path(store, "exp")).pid == os.getpid()


def write_record(path: str, host: str, heartbeat: float) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    record = {"host": host, "pid": 1, "started": heartbeat, "heartbeat": heartbeat, "token": "theirs"}
    Path(path).write_text(json.dumps(record))


def test_a_live_holder_on_this_host_keeps_its_lease_whatever_its_heartbeat(tmp_path):
    path = lease_path(str(tmp_path), "exp")
    Path(path).parent.mkdir(parents=True)
    old = time.time() - lease.STALE_S - 5  # a holder too busy to beat (or its clock behind)
    holder = {"host": socket.gethostname(), "pid": os.getpid(), "started": old, "heartbeat": old}
    holder["token"] = "t"
    Path(path).write_text(json.dumps(holder))
    with pytest.raises(TasrayError, match=f"pid {os.getpid()} on "), driver_lease(str(tmp_path), "exp"):
        pass


def test_a_relative_store_names_one_lease_whatever_the_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with driver_lease("store", "exp"):
        monkeypatch.chdir("/")
        assert read_holder(lease_path(str(tmp_path / "store"), "exp")).pid == os.getpid()


def test_another_hosts_lease_is_stale_only_without_a_recent_heartbeat(tmp_path):
    store, path = str(tmp_path), lease_path(str(tmp_path), "exp")
    write_record(path, "elsewhere", time.time() - 5)
    with pytest.raises(TasrayError, match="pid 1 on elsewhere"), driver_lease(store, "exp"):
        pass
    write_record(path, "elsewhere", time.time() - lease.STALE_S - 5)
    with driver_lease(store, "exp") as replaced:
        assert replaced.host == "elsewhere"
    Path(path).write_text('{"host": "half-writ')  # a writer that died mid-write
    with driver_lease(store, "exp") as replaced:
        assert replaced.token == "damaged"


def test_the_holder_keeps_its_heartbeat_fresh(tmp_path, monkeypatch):
    monkeypatch.setattr(lease, "HEARTBEAT_S", 0.05)
    path = lease_path(str(tmp_path), "exp")
    with driver_lease(str(tmp_path), "exp"):
        first = read_holder(path)
        deadline = time.monotonic() + 20
        while read_holder(path).heartbeat == first.heartbeat and time.monotonic() < deadline:
            time.sleep(0.05)
        later = read_holder(path)
    assert later.heartbeat > first.heartbeat and later.token == first.token


def test_an_object_store_lease_admits_one_driver(s3_store):
    refused = pytest.raises(TasrayError, match="is being run by another driver")
    with driver_lease(s3_store, "exp"), refused, driver_lease(s3_store, "exp"):
        pytest.fail("two drivers held the lease")
    with driver_lease(s3_store, "exp") as replaced:
        assert replaced is None
