"""What a pruning method receives (`MethodContext`) and returns (`MethodResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tasray.config import Experiment
from tasray.costs import Cost
from tasray.engine.runner import Runner
from tasray.engine.settings import train_settings
from tasray.models.resnet import PrunedResNet
from tasray.spec.arch import ArchSpec
from tasray.stages.train import TrainSettings


@dataclass
class MethodContext:
    """What a method may use.

    Args:
        experiment: the trial's experiment (the sweep's values applied for a TAS trial).
        full_spec: the unpruned network at the data set's geometry.
        teacher: the trained unpruned network.
        teacher_top1: its test top-1, percent.
        runner: where the method's jobs run (`LocalRunner`, Ray Train).
        cost: the cost the trial's target R is a ratio of (`search.cost`).
        baseline: the method's ``baselines:`` entry; None for the TAS search.
    """

    experiment: Experiment
    full_spec: ArchSpec
    teacher: PrunedResNet
    teacher_top1: float
    runner: Runner
    cost: Cost
    baseline: Any = None

    def train_settings(self, epochs: int) -> TrainSettings:
        """Short training from scratch with the retraining's optimiser (e.g. candidates)."""
        return train_settings(self.experiment, self.experiment.retrain, epochs=epochs)


@dataclass
class MethodResult:
    spec: ArchSpec
    kept_channels: list[list[int]] | None = None  # None: the teacher's L1-largest filters
    search_seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    selected_epoch: int | None = None  # the search epoch whose architecture was kept
    in_band: bool | None = None  # whether that epoch's cost ratio was within (1 ± t)·R
