"""Actor options that keep the run's small actors on the driver's node.

The progress queue and the search lock hold the run's state: on a node an autoscaler may remove
they would vanish with it, so they live where the driver does.
"""

from __future__ import annotations

from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy


def on_driver_node() -> dict[str, Any]:
    """`actor_options` for a zero-CPU actor on this (the driver's) node; call it in the driver."""
    node = ray.get_runtime_context().get_node_id()
    return {"num_cpus": 0, "scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=node, soft=False)}
