"""The Gumbel-softmax temperature schedule: τ from `start` at the first epoch to `end` at the last."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Shape = Literal["linear", "cosine", "exponential"]


@dataclass(frozen=True)
class TauSchedule:
    """τ per epoch: linear in the paper's text, cosine in the authors' code (5 → 0.1).

    Example:
        >>> TauSchedule(10.0, 0.1, "linear").at(epoch=2, epochs=3)
        0.1
    """

    start: float = 5.0
    end: float = 0.1
    shape: Shape = "cosine"

    def at(self, epoch: int, epochs: int) -> float:
        progress = epoch / max(1, epochs - 1)
        hi, lo = self.start, self.end
        if self.shape == "linear":
            return hi - (hi - lo) * progress
        if self.shape == "cosine":
            return lo + (hi - lo) * (1 + math.cos(math.pi * progress)) / 2
        return hi * (lo / hi) ** progress  # exponential
