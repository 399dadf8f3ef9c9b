"""Run a function on a Ray node that has a device: a latency table measured where the network
will run (`tasray latency-table --address`, or `tasray run` whose driver lacks `latency.device`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import ray

from tasray.errors import TasrayError

T = TypeVar("T")


def on_device(fn: Callable[..., T], device: str, *args: Any) -> T:
    """`fn(*args)` in a Ray task that holds one GPU (``cuda``) or one CPU (``cpu``) of the cluster."""
    gpus = ray.cluster_resources().get("GPU", 0)
    if device == "cuda" and gpus < 1:
        raise TasrayError("the device is cuda, but the Ray cluster has no GPU; join one that has")
    resources = {"num_gpus": 1, "num_cpus": 1} if device == "cuda" else {"num_cpus": 1}
    return ray.get(ray.remote(**resources)(fn).remote(*args))
