"""Costs of pruned networks by name (`search.cost`): FLOPs, and any other registered `Cost`."""

from tasray.costs.base import COSTS, ArchDistribution, Cost, CostSetup, DepthDistribution, WidthDistribution


def create_cost(name: str, setup: CostSetup) -> Cost:
    """The cost registered as `name`, built for `setup`; an unknown name lists the known ones."""
    return COSTS.get(name).build(setup)


__all__ = [
    "COSTS",
    "ArchDistribution",
    "Cost",
    "CostSetup",
    "DepthDistribution",
    "WidthDistribution",
    "create_cost",
]
