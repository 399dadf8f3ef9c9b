"""Pre-defined pruning (Li et al. 2017): keep the same fraction of filters in every conv.

The fraction is either given (`keep_ratio`) or found by bisection so that the pruned network's
FLOPs meet the target ratio R; widths are rounded to `width_multiple` (default: the search's),
and inner convs then move by one multiple at a time until the FLOPs are nearest to R.
Kept filters are ranked on the teacher's weights by L1 norm (or at random) and matter for `init`
transfer.
"""

from __future__ import annotations

from tasray.arch import ArchSpec
from tasray.errors import TasrayError
from tasray.methods import METHODS, MethodContext, MethodResult
from tasray.stages.transfer import make_criterion, select_channels
from tasray.tas.cost import flop_ratio
from tasray.widths import round_width


def uniform_spec(full: ArchSpec, keep: float, multiple: int = 1) -> ArchSpec:
    """Every conv keeps keep × width filters, rounded to `multiple` (`round_width`); same depths."""
    widths = [round_width(keep * w, w, multiple) for w in full.widths]
    return ArchSpec(full.model, widths, full.depths, full.in_channels, full.input_size, full.num_classes)


def keep_ratio_for(full: ArchSpec, target: float, multiple: int = 1, steps: int = 40) -> float:
    """The per-layer fraction whose FLOP ratio is closest to `target` (FLOPs grow with it)."""

    def ratio(keep: float) -> float:
        return flop_ratio(uniform_spec(full, keep, multiple))

    lo, hi = 0.0, 1.0
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ratio(mid) < target else (lo, mid)
    return min((lo, hi), key=lambda k: abs(ratio(k) - target))


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


def fixed_ratio_spec(full: ArchSpec, target: float, multiple: int = 1) -> ArchSpec:
    """The uniform spec nearest to `target`, then, with a width multiple, inner convs moved one
    multiple at a time towards it: rounding to multiples makes the uniform FLOP ratios coarse."""
    spec = uniform_spec(full, keep_ratio_for(full, target, multiple), multiple)
    if multiple == 1:
        return spec
    step = multiple if flop_ratio(spec) < target else -multiple
    widths, best = list(spec.widths), spec
    for index in inner_convs(full):
        width = widths[index] + step
        if not min(multiple, full.widths[index]) <= width <= full.widths[index]:
            continue
        widths[index] = width
        candidate = ArchSpec(
            full.model, widths, full.depths, full.in_channels, full.input_size, full.num_classes
        )
        if abs(flop_ratio(candidate) - target) < abs(flop_ratio(best) - target):
            best = candidate
        if (flop_ratio(candidate) - target) * step >= 0:
            break
    return best


@METHODS.register("fixed_ratio")
def fixed_ratio(context: MethodContext) -> MethodResult:
    settings, full = context.baseline, context.full_spec
    multiple = settings.width_multiple or context.experiment.search.width_multiple
    if settings.keep_ratio is not None:
        spec = uniform_spec(full, settings.keep_ratio, multiple)
    else:
        spec = fixed_ratio_spec(full, settings.target_ratio, multiple)
    if settings.keep_ratio is None:
        tolerance = context.experiment.search.tolerance
        ratio = flop_ratio(spec)
        if abs(ratio - settings.target_ratio) > tolerance * settings.target_ratio:
            raise TasrayError(
                f"fixed_ratio cannot reach target_ratio {settings.target_ratio} within tolerance "
                f"{tolerance}: the closest uniform pruning with width multiple {multiple} gives "
                f"{ratio:.3f}; lower width_multiple or widen search.tolerance"
            )
    criterion = make_criterion(settings.criterion, context.experiment.seed)
    return MethodResult(spec, select_channels(context.teacher, spec, criterion))
