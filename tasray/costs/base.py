"""The `Cost` interface: what a pruned network costs, exactly for an ArchSpec and in expectation
over the search's architecture distribution, and the registry of costs by name.

A cost has two faces (paper Sec. 3.3): F_cost, the exact cost of one architecture, which the band
(1 ± t)·R, the selection and the baselines use; and E_cost, a differentiable expectation over the
probabilities of every width and depth, which the cost loss back-propagates into α and β.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from tasray.registry import Registry
from tasray.spec.arch import ArchSpec


@dataclass
class WidthDistribution:
    """Candidate widths of one conv and the probability of each (a differentiable tensor)."""

    widths: torch.Tensor  # float, shape (K,)
    probs: torch.Tensor  # shape (K,), sums to 1

    def mean(self) -> torch.Tensor:
        return (self.widths * self.probs).sum()


@dataclass
class DepthDistribution:
    """Candidate depths of one stage and the probability of each."""

    depths: Sequence[int]
    probs: torch.Tensor

    def keeps(self, block: int) -> torch.Tensor:
        """Probability that the stage keeps block `block` (0-based)."""
        mask = torch.tensor(
            [d > block for d in self.depths], dtype=self.probs.dtype, device=self.probs.device
        )
        return (self.probs * mask).sum()


@dataclass
class ArchDistribution:
    """The search's distribution over architectures: independent widths per conv, depths per stage.

    `spec` supplies the model and the input geometry only.
    """

    spec: ArchSpec
    widths: list[WidthDistribution]
    depths: list[DepthDistribution]


@dataclass(frozen=True)
class CostSetup:
    """What a cost may need to build itself for an experiment.

    Args:
        full_spec: the unpruned network at the experiment's input geometry.
        storage_path: the experiment's storage (where measured tables are cached).
        options: the cost's own settings from the experiment file.
    """

    full_spec: ArchSpec
    storage_path: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


class Cost(ABC):
    """A cost of pruned networks. Subclasses register themselves in `COSTS` under their `name`.

    Example:
        >>> from tasray.costs import create_cost
        >>> spec = ArchSpec.full("cifar_resnet20", 10)
        >>> create_cost("flops", CostSetup(spec)).ratio(spec)
        1.0
    """

    name: ClassVar[str]  # e.g. "flops"; the value of `search.cost`
    label: ClassVar[str]  # e.g. "FLOPs", for tables and plots
    ratio_column: ClassVar[str]  # the results column that holds a row's ratio under this cost

    @classmethod
    def build(cls, setup: CostSetup) -> Cost:
        """The cost for an experiment (a measured cost loads its table here)."""
        return cls()

    @abstractmethod
    def exact(self, spec: ArchSpec) -> float:
        """F_cost: the cost of the network `spec` describes."""

    @abstractmethod
    def expected(self, distribution: ArchDistribution) -> torch.Tensor:
        """E_cost: the expected cost over `distribution`, differentiable in its probabilities."""

    def ratio(self, spec: ArchSpec) -> float:
        """The cost of `spec` relative to its unpruned network at the same input."""
        return self.exact(spec) / self.exact(spec.unpruned())

    def identity(self) -> str:
        """What determines this cost's values (its name, and a measured table's hash): part of the
        search cache key."""
        return self.name


BUILTIN_MODULES = ("tasray.costs.flops", "tasray.costs.latency")


def _load_builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


COSTS: Registry[type[Cost]] = Registry("cost", load=_load_builtins)
"""Costs by name. Adding one is a module that registers a `Cost` subclass, named in
`BUILTIN_MODULES`; the modules load on the first lookup, so they may import the models."""
