"""Which Ray cluster `tasray run` will use, whether it answers, and whether it has the devices.

Ray's rule, followed here: ``--address`` if given (``local`` forces a new local instance), else
the ``RAY_ADDRESS`` variable, else the cluster that ``ray start`` recorded in
``/tmp/ray/ray_current_cluster``, else a new local instance. Everything here runs before Ray
starts; nothing imports Ray.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass

import torch

from tasray.config import ResourcesConfig
from tasray.errors import TasrayError
from tasray.plural import plural

CONNECT_TIMEOUT_S = 5.0
"""Seconds a cluster's port has to accept a connection."""
GCS_PROBE_TIMEOUT_S = 15.0
"""Seconds a cluster has to answer as a Ray GCS (in a child process, so nothing here can hang)."""
# Ray has no public call that asks an address for its cluster id within seconds (`ray.init` retries
# for 20 s and more), so the probe uses the private GcsClient; if that changes, the probe fails open.
GCS_PROBE = """
import sys
from ray.exceptions import AuthenticationError
try:
    from ray._raylet import GcsClient
except ImportError:
    sys.exit(4)
try:
    GcsClient(address=sys.argv[1], cluster_id=None)
except AuthenticationError:
    sys.exit(3)
except TypeError:
    sys.exit(4)
"""
PROBE_REFUSED_TOKEN, PROBE_UNAVAILABLE = 3, 4
AUTH_FIX = (
    "it uses Ray token authentication: give this machine the cluster's token with RAY_AUTH_MODE=token and "
    "RAY_AUTH_TOKEN_PATH=<a copy of the head's ~/.ray/auth_token> (or RAY_AUTH_TOKEN=<the token>; "
    "`ray get-auth-token` on the head prints it)"
)
LOCAL = "local"
ADDRESS_FORMS = "expected host:port (e.g. 10.0.0.1:6379), ray://host:port, auto or local"


@dataclass(frozen=True)
class ClusterTarget:
    """The cluster to join (`address`), or a new local instance (`address` None); `source` says why."""

    address: str | None
    source: str

    @property
    def is_local(self) -> bool:
        return self.address is None

    def describe(self) -> str:
        where = "a new local Ray instance" if self.is_local else f"the Ray cluster at {self.address}"
        return f"{where} ({self.source})"


def recorded_cluster_file() -> str:
    """Where `ray start` records the address of the cluster it started (Ray's temp folder)."""
    return os.path.join(os.environ.get("RAY_TMPDIR", "/tmp"), "ray", "ray_current_cluster")


def choose_cluster(flag: str | None) -> ClusterTarget:
    """The cluster Ray's rule picks for `--address flag` (see the module docstring)."""
    if flag is not None and not flag.strip():  # `--address "$UNSET_VAR"`: not the same as no flag
        raise TasrayError(f"--address {flag!r} is empty; {ADDRESS_FORMS}, or leave --address out")
    if flag == LOCAL:
        return ClusterTarget(None, "--address local")
    if flag and flag != "auto":
        return ClusterTarget(flag, "--address")
    env = os.environ.get("RAY_ADDRESS")
    if env:
        return ClusterTarget(None if env == LOCAL else env, f"RAY_ADDRESS={env}")
    record = recorded_cluster_file()
    if os.path.isfile(record):
        with open(record) as stream:
            address = stream.read().strip()
        if address:
            return ClusterTarget(address, f"the cluster `ray start` recorded in {record}")
    if flag == "auto":
        raise TasrayError(
            "--address auto: no Ray cluster found (RAY_ADDRESS is unset and `ray start` recorded none); "
            "start one with `ray start --head`, or use --address local"
        )
    return ClusterTarget(None, "no --address, RAY_ADDRESS or `ray start` cluster")


def host_port(address: str) -> tuple[str, int]:
    """(host, port) of ``host:port`` or ``ray://host:port``."""
    bare = address.removeprefix("ray://")
    host, sep, port = bare.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TasrayError(f"Ray address {address!r}: {ADDRESS_FORMS}")
    return host.strip("[]"), int(port)


def check_reachable(target: ClusterTarget) -> None:
    """A cluster to join must accept a connection and answer as a Ray cluster, within seconds.

    Ray itself retries for a long time and logs every attempt; these probes fail in one line. The
    second one asks the address for its cluster id with Ray's GCS client, in a child process; a
    cluster that refuses the driver's token is named as such, with the fix.
    """
    if target.is_local:
        return
    host, port = host_port(target.address)
    hint = "start it with `ray start --head`, or use --address local"
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as err:
        reason = err.strerror or str(err) or type(err).__name__
        raise TasrayError(
            f"cannot reach the Ray cluster at {target.address} (from {target.source}): {reason}; {hint}"
        ) from None
    if target.address.startswith("ray://"):
        return  # a Ray Client server, not a GCS: the port answering is what can be checked here
    try:
        probe = subprocess.run(
            [sys.executable, "-c", GCS_PROBE, f"{host}:{port}"],
            capture_output=True,
            text=True,
            timeout=GCS_PROBE_TIMEOUT_S,
        )
        status = probe.returncode
    except subprocess.TimeoutExpired:
        status = None
    if status == PROBE_REFUSED_TOKEN:
        raise TasrayError(
            f"the Ray cluster at {target.address} (from {target.source}) refused this driver: {AUTH_FIX}"
        )
    if status == PROBE_UNAVAILABLE:
        print(
            f"tasray: warning: cannot ask {target.address} whether it is a Ray cluster (this Ray's GCS "
            "client changed); joining it without the check",
            file=sys.stderr,
        )
        return
    if status != 0:
        raise TasrayError(
            f"no Ray cluster answers at {target.address} (from {target.source}): the port is open but "
            f"it is not a Ray GCS, or did not answer within {GCS_PROBE_TIMEOUT_S:g} s; {hint}"
        )


def check_resources(resources: ResourcesConfig, cpus: float, gpus: float, where: str) -> None:
    """A stage's workers must fit `cpus` and `gpus`, or Ray would wait for them forever."""
    need_cpus = resources.num_workers * resources.cpus_per_worker
    need_gpus = resources.num_workers * resources.gpus_per_worker if resources.use_gpu else 0
    if need_gpus > gpus:
        raise TasrayError(
            f"resources.use_gpu = true: the stages need {plural(need_gpus, 'GPU')} (num_workers × "
            f"gpus_per_worker) but {where} has {gpus:g}; set use_gpu: false or use a cluster with GPUs"
        )
    if need_cpus > cpus:
        raise TasrayError(
            f"resources: the stages need {plural(need_cpus, 'CPU')} (num_workers × cpus_per_worker) but "
            f"{where} has {cpus:g}; lower num_workers or cpus_per_worker"
        )


def check_worker_fits_a_node(resources: ResourcesConfig, nodes: list[dict[str, float]]) -> None:
    """One worker's CPUs (and GPUs) must fit on one node of `nodes` (each node's resources), or
    Ray would wait for such a node forever; the cluster's totals alone do not say so."""
    wanted = {"CPU": resources.cpus_per_worker}
    if resources.use_gpu:
        wanted["GPU"] = resources.gpus_per_worker
    for name, amount in wanted.items():
        largest = max((node.get(name, 0.0) for node in nodes), default=0.0)
        if amount > largest:
            field = "cpus_per_worker" if name == "CPU" else "gpus_per_worker"
            raise TasrayError(
                f"resources.{field} = {amount:g}: one worker needs {plural(amount, name)} on one node, "
                f"but the largest node has {largest:g}; lower {field} or add a larger node"
            )


def check_local_resources(resources: ResourcesConfig, target: ClusterTarget) -> None:
    """For a new local instance: this machine's CPUs and CUDA devices (remote: after connecting)."""
    if target.is_local:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        gpus = torch.cuda.device_count() if resources.use_gpu else 0
        check_resources(resources, cpus, gpus, "this machine")
