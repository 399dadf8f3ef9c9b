"""Pre-defined pruning (Li et al. 2017): keep the same fraction of filters in every conv.

The fraction is either given (`keep_ratio`) or found by bisection so that the pruned network's
cost (`search.cost`) meets the target ratio R; widths are rounded to `width_multiple` (default:
the search's), and inner convs then move by one multiple at a time until the cost is nearest to R.
Kept filters are ranked on the teacher's weights by L1 norm (or at random) and matter for `init`
transfer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from tasray.config import BaselineSection
from tasray.config.errors import field_error
from tasray.config.sections import Fraction
from tasray.costs import Cost
from tasray.errors import TasrayError
from tasray.methods.context import MethodContext, MethodResult
from tasray.methods.registry import Method, register_method
from tasray.spec.arch import ArchSpec
from tasray.spec.widths import round_width
from tasray.stages.transfer import make_criterion, select_channels


class FixedRatioConfig(BaselineSection):
    """'Pre-defined' pruning (Table 1): keep the same fraction of filters in every layer.

    Args:
        method: ``fixed_ratio``.
        keep_ratio: the kept fraction of every layer's filters, instead of a cost target.
        criterion: which filters to keep: largest ``l1`` norm, or ``random``.
        width_multiple: kept widths are rounded to multiples of this; unset means the
            experiment's search.width_multiple.
    """

    method: Literal["fixed_ratio"] = "fixed_ratio"
    keep_ratio: Fraction | None = None
    criterion: Literal["l1", "random"] = "l1"
    width_multiple: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_target(self) -> FixedRatioConfig:
        if self.target_ratio is not None and self.keep_ratio is not None:
            raise field_error(
                "keep_ratio", self.keep_ratio, "give either keep_ratio or target_ratio, not both"
            )
        return self


def uniform_spec(full: ArchSpec, keep: float, multiple: int = 1) -> ArchSpec:
    """Every conv keeps keep × width filters, rounded to `multiple` (`round_width`); same depths."""
    widths = [round_width(keep * w, w, multiple) for w in full.widths]
    return ArchSpec(full.model, widths, full.depths, full.in_channels, full.input_size, full.num_classes)


def keep_ratio_for(full: ArchSpec, target: float, cost: Cost, multiple: int = 1, steps: int = 40) -> float:
    """The per-layer fraction whose cost ratio is closest to `target` (the cost grows with it)."""

    def ratio(keep: float) -> float:
        return cost.ratio(uniform_spec(full, keep, multiple))

    lo, hi = 0.0, 1.0
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ratio(mid) < target else (lo, mid)
    best = min((lo, hi), key=lambda k: abs(ratio(k) - target))
    # The widest keep of the same cost: where a cost is flat (a latency table below its narrowest
    # candidate), pruning further buys nothing under it and would leave layers of a channel or two.
    floor, lo, hi = ratio(best), best, 1.0
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ratio(mid) <= floor else (lo, mid)
    return lo


def inner_convs(full: ArchSpec) -> list[int]:
    """Convs inside a block (not its output), block by block across the stages: their widths can
    change without changing a residual's width, so no projection shortcut is added."""
    family, positions = full.family, range(len(full.family.block_kernels) - 1)
    order = [
        (block, stage, family.conv_index(stage, block, position))
        for stage, depth in enumerate(full.depths)
        for block in range(depth)
        for position in positions
    ]
    return [index for _, _, index in sorted(order)]


def fixed_ratio_spec(full: ArchSpec, target: float, cost: Cost, multiple: int = 1) -> ArchSpec:
    """The uniform spec nearest to `target`, then, with a width multiple, inner convs moved one
    multiple at a time towards it: rounding to multiples makes the uniform cost ratios coarse."""
    spec = uniform_spec(full, keep_ratio_for(full, target, cost, multiple), multiple)
    if multiple == 1:
        return spec
    step = multiple if cost.ratio(spec) < target else -multiple
    widths, best = list(spec.widths), spec
    for index in inner_convs(full):
        width = widths[index] + step
        if not min(multiple, full.widths[index]) <= width <= full.widths[index]:
            continue
        widths[index] = width
        candidate = ArchSpec(
            full.model, widths, full.depths, full.in_channels, full.input_size, full.num_classes
        )
        if abs(cost.ratio(candidate) - target) < abs(cost.ratio(best) - target):
            best = candidate
        if (cost.ratio(candidate) - target) * step >= 0:
            break
    return best


def fixed_ratio(context: MethodContext) -> MethodResult:
    settings, full, cost = context.baseline, context.full_spec, context.cost
    multiple = settings.width_multiple or context.experiment.search.width_multiple
    if settings.keep_ratio is not None:
        spec = uniform_spec(full, settings.keep_ratio, multiple)
    else:
        spec = fixed_ratio_spec(full, settings.target_ratio, cost, multiple)
        tolerance = context.experiment.search.tolerance
        ratio = cost.ratio(spec)
        if abs(ratio - settings.target_ratio) > tolerance * settings.target_ratio:
            raise TasrayError(
                f"fixed_ratio cannot reach target_ratio {settings.target_ratio} of {cost.label} within "
                f"tolerance {tolerance}: the closest uniform pruning with width multiple {multiple} "
                f"gives {ratio:.3f}; lower width_multiple or widen search.tolerance"
            )
    criterion = make_criterion(settings.criterion, context.experiment.seed)
    return MethodResult(spec, select_channels(context.teacher, spec, criterion))


def describe(config: FixedRatioConfig) -> str:
    if config.keep_ratio is not None:
        return f"{config.criterion} filters, keep {config.keep_ratio:g} of each layer"
    return f"{config.criterion} filters, R = {config.target_ratio:g}"


register_method(Method("fixed_ratio", fixed_ratio, "fixed ratio", config=FixedRatioConfig, describe=describe))
