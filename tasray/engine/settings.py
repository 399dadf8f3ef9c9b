"""Stage settings, built once from the experiment's config sections, by keyword."""

from __future__ import annotations

from tasray.config import Experiment, RetrainConfig, SearchConfig, TeacherConfig
from tasray.models.search import SearchSpace
from tasray.stages.optim import SGDSettings
from tasray.stages.search import ArchOptimSettings, SearchSettings
from tasray.stages.speed import SpeedSettings
from tasray.stages.train import TrainSettings
from tasray.tas.cost_loss import CostTarget
from tasray.tas.schedule import TauSchedule


def speed_settings(exp: Experiment) -> SpeedSettings:
    """The speed settings of the fixed-shape stages, from the experiment's resources."""
    r = exp.resources
    return SpeedSettings(
        amp=r.amp, channels_last=r.channels_last, cudnn_benchmark=r.cudnn_benchmark, compile=r.compile
    )


def train_settings(
    exp: Experiment,
    section: TeacherConfig | RetrainConfig,
    *,
    epochs: int | None = None,
    transfer: str = "scratch",
) -> TrainSettings:
    """Training with `section`'s optimiser (the teacher's or the retraining's), on the experiment's data."""
    return TrainSettings(
        epochs=section.epochs if epochs is None else epochs,
        optim=SGDSettings(lr=section.lr, momentum=section.momentum, weight_decay=section.weight_decay),
        batch_size=exp.data.batch_size,
        eval_batch_size=exp.data.eval_batch_size,
        transfer=transfer,
        kd_weight=exp.retrain.kd_weight,
        kd_temperature=exp.retrain.kd_temperature,
        speed=speed_settings(exp),
    )


def search_space(search: SearchConfig, variant: str | None = None) -> SearchSpace:
    """The candidate widths and depths of `search` (for `variant`, default its own)."""
    return SearchSpace(
        width_ratios=tuple(search.width_ratios),
        min_depth=search.min_depth,
        num_selected=search.num_selected,
        variant=variant or search.variant,
        width_multiple=search.width_multiple,
    )


def cost_target(search: SearchConfig) -> CostTarget:
    return CostTarget(ratio=search.target_ratio, tolerance=search.tolerance, weight=search.lambda_cost)


def search_settings(search: SearchConfig, variant: str | None = None) -> SearchSettings:
    """The search stage's settings for the `search` section (and `variant`, default its own)."""
    return SearchSettings(
        space=search_space(search, variant),
        epochs=search.epochs,
        target=cost_target(search),
        tau=TauSchedule(start=search.tau_max, end=search.tau_min, shape=search.tau_schedule),
        weights=SGDSettings(
            lr=search.weight_lr, momentum=search.weight_momentum, weight_decay=search.weight_decay
        ),
        arch=ArchOptimSettings(
            lr=search.arch_lr, weight_decay=search.arch_weight_decay, travel=search.arch_travel
        ),
    )
