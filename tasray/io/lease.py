"""`driver_lease`: one driver per experiment on a store, through a lease file beside its rows.

The lease is `<storage>/<name>/_driver.lease`, a JSON record of its holder (host, pid, start time,
heartbeat, a random token). A driver creates it before Ray starts, rewrites its heartbeat every
`HEARTBEAT_S` seconds and deletes it on the way out. A second driver finds it and stops with one
line that names the first. A lease is stale, and taken over, when its holder's pid is gone (same
host) or, held from another host, its heartbeat is older than `STALE_S` (driver hosts' clocks must
agree to within seconds, as NTP keeps them).

Creating it is atomic on a local or NFS folder (a hard link, which fails if the name exists).
pyarrow's other filesystems (S3, GCS, HDFS...) have no create-if-absent, so there the driver writes
its record, waits `SETTLE_S` and reads it back: of two drivers that start within that second, the
last writer holds it and the other stops.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone

import pyarrow.fs as pafs

from tasray.errors import TasrayError, failure_cause
from tasray.io import storage

LEASE_FILE = "_driver.lease"
HEARTBEAT_S = 10.0
"""Seconds between the holder's heartbeats."""
STALE_S = 60.0
"""A heartbeat older than this means the holder died (on another host; on the same, its pid says)."""
SETTLE_S = 1.0
"""Seconds a driver waits before reading back a lease it wrote to an object store."""


@dataclass(frozen=True)
class Holder:
    """Who holds a lease: host, pid, start and last heartbeat (Unix seconds), and a random token."""

    host: str
    pid: int
    started: float
    heartbeat: float
    token: str

    def describe(self, now: float) -> str:
        since = datetime.fromtimestamp(self.started, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        beat = now - self.heartbeat
        return f"pid {self.pid} on {self.host}, since {since}, last heartbeat {beat:.0f} s ago"

    def is_stale(self, now: float) -> bool:
        """The holder is gone: on this host, its pid is not alive (a busy holder's late heartbeat
        does not count there); on another, its heartbeat is older than `STALE_S`."""
        if self.host == socket.gethostname():
            return not pid_alive(self.pid)
        return now - self.heartbeat > STALE_S


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def lease_path(storage_path: str, experiment: str) -> str:
    """The lease's path; a local one made absolute now (the process may change folders later)."""
    root = storage_path if "://" in storage_path else os.path.abspath(os.path.expanduser(storage_path))
    return storage.join(root, experiment, LEASE_FILE)


def read_holder(path: str) -> Holder | None:
    """The lease's holder, or None if there is no lease. A damaged record counts as a stale one."""
    data = storage.read_bytes(path)
    if data is None:
        return None
    try:
        return Holder(**json.loads(data))
    except (ValueError, TypeError):  # half-written by a writer that died: take it over
        return Holder(host="?", pid=0, started=0.0, heartbeat=0.0, token="damaged")


def create_exclusive(path: str, holder: Holder) -> bool:
    """Create the lease with `holder`'s record unless a lease exists; True if this call created it."""
    data = json.dumps(asdict(holder)).encode()
    filesystem, inner = storage.resolve_path(path)
    if isinstance(filesystem, pafs.LocalFileSystem):
        os.makedirs(os.path.dirname(inner), exist_ok=True)
        temp = f"{inner}.{holder.token}.tmp"
        with open(temp, "wb") as stream:
            stream.write(data)
        try:
            os.link(temp, inner)  # atomic, and fails if the lease exists (NFS included)
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(temp)
    if filesystem.get_file_info(inner).type != pafs.FileType.NotFound:
        return False
    storage.write_bytes(path, data)
    time.sleep(SETTLE_S)
    current = read_holder(path)
    return current is not None and current.token == holder.token


def remove_if_held_by(path: str, token: str) -> None:
    """Delete the lease if `token` still holds it (never a successor's)."""
    current = read_holder(path)
    if current is not None and current.token == token:
        filesystem, inner = storage.resolve_path(path)
        filesystem.delete_file(inner)


def acquire(path: str, experiment: str) -> tuple[Holder, Holder | None]:
    """Take the lease: (this driver's record, the stale holder it replaced or None).

    Raises:
        TasrayError: a live driver holds it (the message names it), or the store refuses the write.
    """
    now = time.time()
    mine = Holder(socket.gethostname(), os.getpid(), now, now, uuid.uuid4().hex)
    replaced = None
    for _ in range(3):  # a race with another driver taking over the same stale lease
        current = read_holder(path)
        if current is not None:
            if not current.is_stale(time.time()):
                holder = current.describe(time.time())
                raise TasrayError(
                    f"experiment {experiment!r} is being run by another driver ({holder}; "
                    f"lease {path}); wait for it to finish or stop it (a lease whose driver died is "
                    f"taken over after {STALE_S:g} s)"
                )
            remove_if_held_by(path, current.token)
            replaced = current
        try:
            if create_exclusive(path, mine):
                return mine, replaced
        except OSError as err:
            raise TasrayError(f"cannot write the driver lease {path}: {failure_cause(err)}") from None
    raise TasrayError(f"experiment {experiment!r}: another driver took the lease {path} first; run again")


def keep_alive(path: str, mine: Holder, stop: threading.Event) -> None:
    """Rewrite the heartbeat until `stop` is set or another driver took the lease over."""
    while not stop.wait(HEARTBEAT_S):
        try:
            current = read_holder(path)
            if current is None or current.token != mine.token:
                return
            storage.write_bytes(path, json.dumps(asdict(replace(mine, heartbeat=time.time()))).encode())
        except (OSError, TasrayError):  # a store that turned read-only: the run itself reports it
            continue


@contextmanager
def driver_lease(storage_path: str, experiment: str) -> Iterator[Holder | None]:
    """Hold the experiment's lease for the block; yields the stale holder it replaced, if any."""
    path = lease_path(storage_path, experiment)
    mine, replaced = acquire(path, experiment)
    stop = threading.Event()
    beat = threading.Thread(target=keep_alive, args=(path, mine, stop), name="tasray-lease", daemon=True)
    beat.start()
    try:
        yield replaced
    finally:
        stop.set()
        beat.join()
        with suppress(OSError, TasrayError):  # a read-only store: the lease goes stale on its own
            remove_if_held_by(path, mine.token)
