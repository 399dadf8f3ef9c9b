"""Run a function on a node of the Ray cluster: a latency table measured where the network will
run (`tasray latency-table --address`, or `tasray run` whose driver lacks `latency.device`), and a
teacher checkpoint scored where the stages' workers run, not on the driver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import ray

from tasray.config import ResourcesConfig
from tasray.errors import TasrayError

T = TypeVar("T")


def on_device(fn: Callable[..., T], device: str, *args: Any) -> T:
    """`fn(*args)` in a Ray task that holds one GPU (``cuda``) or one CPU (``cpu``) of the cluster."""
    gpus = ray.cluster_resources().get("GPU", 0)
    if device == "cuda" and gpus < 1:
        raise TasrayError("the device is cuda, but the Ray cluster has no GPU; join one that has")
    resources = {"num_gpus": 1, "num_cpus": 1} if device == "cuda" else {"num_cpus": 1}
    return ray.get(ray.remote(**resources)(fn).remote(*args))


def on_worker(fn: Callable[..., T], resources: ResourcesConfig, *args: Any) -> T:
    """`fn(*args)` in a Ray task that holds what one of the stages' workers holds: its CPUs, and
    its GPU when the stages use GPUs."""
    options = {"num_cpus": resources.cpus_per_worker}
    if resources.use_gpu:
        options["num_gpus"] = resources.gpus_per_worker
    return ray.get(ray.remote(**options)(fn).remote(*args))
