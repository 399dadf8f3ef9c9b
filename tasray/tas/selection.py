"""Which epoch's architecture a search returns (the end of the authors' `search-transformable.py`).

Every epoch derives an architecture (the argmax of α and β; see `SearchStage.epoch_architecture`)
and scores the super-network on D_val. The search keeps the best-scoring epoch whose cost ratio
lies in the band (1 ± t)·R. When no epoch does, it falls back to the epoch closest to R and says so
(`in_band = False`), rather than returning the last argmax whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tasray.tas.cost_loss import CostTarget


@dataclass(frozen=True)
class EpochChoice:
    epoch: int  # index into the search history
    in_band: bool


def choose_epoch(history: Sequence[dict[str, Any]], target: CostTarget) -> EpochChoice:
    """The best-validation in-band epoch (the later one on ties, as the authors' `<=`), else the
    epoch whose cost ratio is closest to R (the better-validating one on ties)."""
    if not history:
        raise ValueError("a search history needs at least one epoch")
    banded = [i for i, h in enumerate(history) if target.holds(h["cost_ratio"])]
    if banded:
        return EpochChoice(max(banded, key=lambda i: (history[i]["val_top1"], i)), True)
    closest = min(
        range(len(history)),
        key=lambda i: (abs(history[i]["cost_ratio"] - target.ratio), -history[i]["val_top1"]),
    )
    return EpochChoice(closest, False)
