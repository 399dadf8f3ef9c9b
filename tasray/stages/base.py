"""The lifecycle every stage shares: build in `__init__`, `run_epoch` until done, save/restore state.

A stage is plain PyTorch; whoever drives it (a local loop, a Ray Train worker) decides what to do
after each epoch through the `on_epoch` callback, e.g. save a checkpoint or report metrics.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from tasray.stages.progress import EpochProgress
from tasray.stages.runtime import rng_state, set_rng_state

EpochCallback = Callable[[int, dict[str, float], "Stage"], None]


class Stage(ABC):
    """A resumable training stage. Subclasses fill `stateful` with modules/optimisers/schedulers."""

    name = "stage"

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs
        self.epoch = 0  # the next epoch to run
        self.history: list[dict[str, float]] = []
        self.seconds = 0.0
        self.stateful: dict[str, Any] = {}

    @abstractmethod
    def run_epoch(self, epoch: int) -> dict[str, float]:
        """Train one epoch and return its metrics (they are appended to `history`)."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where this stage stopped."""
        state = {name: unwrap(obj).state_dict() for name, obj in self.stateful.items()}
        state.update(epoch=self.epoch, history=self.history, seconds=self.seconds, rng=rng_state())
        state.update(self.extra_state())
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, obj in self.stateful.items():
            unwrap(obj).load_state_dict(state[name])
        self.epoch, self.history, self.seconds = state["epoch"], list(state["history"]), state["seconds"]
        set_rng_state(state["rng"])
        self.load_extra_state(state)

    def extra_state(self) -> dict[str, Any]:
        """State beyond `stateful` (e.g. a sampler's generator); restored by `load_extra_state`."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:  # noqa: B027  (optional hook)
        """Restore what `extra_state` saved."""

    def fit(self, on_epoch: EpochCallback | None = None, progress: bool | None = None) -> Stage:
        """Run the remaining epochs, calling `on_epoch(epoch, metrics, stage)` after each."""
        with EpochProgress(self.name, self.epochs, self.epoch, enabled=progress) as bar:
            while self.epoch < self.epochs:
                metrics = self.run_epoch(self.epoch)
                self.history.append(metrics)
                self.epoch += 1
                bar.advance(metrics)
                if on_epoch is not None:
                    on_epoch(self.epoch - 1, metrics, self)
        return self


def unwrap(obj: Any) -> Any:
    """The module inside a DistributedDataParallel wrapper, or `obj` itself."""
    return obj.module if isinstance(obj, nn.parallel.DistributedDataParallel) else obj


def save_state(state: dict[str, Any], path) -> None:
    torch.save(state, path)


def load_state(path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=False)
