"""The piecewise cost loss of Eq. 8 and the band (1 ± t)·R it aims for, whatever the cost."""

from __future__ import annotations

from dataclasses import dataclass

import torch


def ratio_bounds(target: float, tolerance: float) -> tuple[float, float]:
    """The band (1 − t)·R .. (1 + t)·R."""
    return (1 - tolerance) * target, (1 + tolerance) * target


def in_band(ratio: float, target: float, tolerance: float) -> bool:
    low, high = ratio_bounds(target, tolerance)
    return low <= ratio <= high


def cost_loss(expected: torch.Tensor, derived_ratio: float, target: float, tolerance: float) -> torch.Tensor:
    """Eq. 8: push log E_cost down when the derived net is too big, up when too small, else 0.

    `expected` is E_cost as a ratio to the unpruned network's cost (a scale factor inside the log
    does not change the gradient); `derived_ratio` is F_cost(A) as a ratio; `target` is R.
    """
    if derived_ratio > (1 + tolerance) * target:
        return torch.log(expected)
    if derived_ratio < (1 - tolerance) * target:
        return -torch.log(expected)
    return expected.new_zeros(())


@dataclass(frozen=True)
class CostTarget:
    """What the search aims for: a cost ratio R within tolerance t, weighted by λ_cost (Eq. 7)."""

    ratio: float
    tolerance: float
    weight: float = 0.0

    def holds(self, ratio: float) -> bool:
        """Whether a cost ratio lies in the band (1 ± t)·R."""
        return in_band(ratio, self.ratio, self.tolerance)

    def loss(self, expected: torch.Tensor, derived_ratio: float) -> torch.Tensor:
        """λ_cost · Eq. 8 for the expected cost ratio `expected` and the derived net's ratio."""
        return self.weight * cost_loss(expected, derived_ratio, self.ratio, self.tolerance)
