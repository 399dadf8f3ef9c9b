"""Connecting to Ray: join the cluster Ray's rule picks (see `tasray.preflight.cluster`) or start one.

The session reports what it joined (address, nodes, CPUs, GPUs) and checks, for a cluster it did
not start, whether the stages' workers fit its resources today; if not it says so, and the run
waits for the cluster to grow (an autoscaler adding GPU nodes to a pool that starts at zero).
Ray is always shut down on the way out, Ctrl-C included.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import ray

from tasray.config import ResourcesConfig
from tasray.errors import TasrayError
from tasray.plural import plural
from tasray.preflight.checkpoint import first_line
from tasray.preflight.cluster import ClusterTarget, check_resources, check_worker_fits_a_node

NO_PREEMPTION_WATCHER = ("RAY_TRAIN_ENABLE_PREEMPTION_WATCHER", "0")


@dataclass(frozen=True)
class ClusterInfo:
    """The Ray cluster a command runs on.

    Args:
        address: the GCS address (host:port).
        started: True for a local instance started by this command, False for a joined cluster.
        nodes: live nodes.
        cpus: CPUs of all nodes.
        gpus: GPUs of all nodes.
        dashboard: the dashboard's host:port, or None without one.
        source: why this cluster (``--address``, ``RAY_ADDRESS``, ``ray start``'s record...).
        shortfall: why today's resources cannot hold a stage's workers (a joined cluster), or None.
    """

    address: str
    started: bool
    nodes: int
    cpus: float
    gpus: float
    dashboard: str | None
    source: str
    shortfall: str | None = None

    def describe(self) -> str:
        how = "started a local Ray instance" if self.started else "joined the Ray cluster"
        counts = f"{plural(self.nodes, 'node')}, {plural(self.cpus, 'CPU')}, {plural(self.gpus, 'GPU')}"
        return f"{how} at {self.address} ({self.source}): {counts}"


@contextmanager
def ray_session(
    target: ClusterTarget, resources: ResourcesConfig | None = None, verbose: bool = False
) -> Iterator[ClusterInfo | None]:
    """Ray for the duration of a command; yields what it runs on (None for a Ray that was running).

    A Ray already initialised in this process (a test's cluster) is used and left running; one
    started or joined here is shut down on exit. Ray's own log lines stay hidden unless `verbose`.
    """
    if ray.is_initialized():
        yield None
        return
    if target.is_local:
        # Ray Train's preemption watcher polls for cloud spot-node notices: none come to a machine
        # that runs its own instance, and it costs a process per TorchTrainer. The instance's
        # processes inherit this environment; a value set by the user wins.
        os.environ.setdefault(*NO_PREEMPTION_WATCHER)
    try:
        context = ray.init(
            address="local" if target.is_local else target.address,
            log_to_driver=verbose,
            logging_level=logging.INFO if verbose else logging.WARNING,
        )
    except (ConnectionError, ValueError, RuntimeError) as err:
        ray.shutdown()
        what = (
            "start a local Ray instance" if target.is_local else f"join the Ray cluster at {target.address}"
        )
        raise TasrayError(f"could not {what} ({target.source}): {first_line(err)}") from None
    try:
        totals = ray.cluster_resources()
        nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
        shortfall = None
        if resources is not None and not target.is_local:
            try:
                check_resources(resources, totals.get("CPU", 0.0), totals.get("GPU", 0.0), "it")
                check_worker_fits_a_node(resources, nodes)
            except TasrayError as err:
                shortfall = str(err)
        info = ClusterInfo(
            address=context.address_info.get("gcs_address") or str(target.address),
            started=target.is_local,
            nodes=len(nodes),
            cpus=totals.get("CPU", 0.0),
            gpus=totals.get("GPU", 0.0),
            dashboard=context.dashboard_url or None,
            source=target.source,
            shortfall=shortfall,
        )
        yield info
    finally:
        ray.shutdown()
