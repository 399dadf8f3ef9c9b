"""Pruning methods, registered by name. Each turns a trained teacher into an ArchSpec (plus, for
`init` transfer, the teacher filters each conv keeps); every method's spec then goes through the
same retraining, which is what makes the leaderboard an apples-to-apples comparison.

TAS and its width-only / depth-only variants live here; `fixed_ratio` and `random_search` are in
the top-level `baselines` package and register themselves on import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tasray.arch import ArchSpec
from tasray.config import Experiment
from tasray.jobs import SearchJob
from tasray.models.resnet import PrunedResNet
from tasray.registry import Registry
from tasray.runner import Runner


@dataclass
class MethodContext:
    """What a method may use: the trial's experiment, its baseline settings, the teacher, a runner."""

    experiment: Experiment
    full_spec: ArchSpec
    teacher: PrunedResNet
    teacher_top1: float
    runner: Runner
    baseline: Any = None  # FixedRatioBaseline | RandomSearchBaseline for baselines


@dataclass
class MethodResult:
    spec: ArchSpec
    kept_channels: list[list[int]] | None = None  # None: the teacher's L1-largest filters
    search_seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    selected_epoch: int | None = None  # the search epoch whose architecture was kept
    in_band: bool | None = None  # whether that epoch's FLOP ratio was within (1 ± t)·R


Method = Callable[[MethodContext], MethodResult]
METHODS: Registry[Method] = Registry("method")


def get_method(name: str) -> Method:
    import baselines  # noqa: F401  (registers the baseline methods)

    return METHODS.get(name)


def _search(context: MethodContext, variant: str) -> MethodResult:
    exp = context.experiment
    settings = exp.search.model_copy(update={"variant": variant})
    result = context.runner.run(SearchJob(context.full_spec, settings, exp.data, exp.seed))
    return MethodResult(
        result.spec, None, result.seconds, result.history, result.selected_epoch, result.in_band
    )


@METHODS.register("tas")
def tas(context: MethodContext) -> MethodResult:
    """Search width and depth (paper Sec. 3.1)."""
    return _search(context, "tas")


@METHODS.register("tas_w")
def tas_width_only(context: MethodContext) -> MethodResult:
    return _search(context, "tas_w")


@METHODS.register("tas_d")
def tas_depth_only(context: MethodContext) -> MethodResult:
    return _search(context, "tas_d")
