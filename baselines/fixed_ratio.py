"""Pre-defined pruning (Li et al. 2017): keep the same fraction of filters in every conv.

The fraction is either given (`keep_ratio`) or found by bisection so that the pruned network's
FLOPs meet the target ratio R; widths are rounded to `width_multiple` (default: the search's).
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


@METHODS.register("fixed_ratio")
def fixed_ratio(context: MethodContext) -> MethodResult:
    settings, full = context.baseline, context.full_spec
    multiple = settings.width_multiple or context.experiment.search.width_multiple
    keep = (
        settings.keep_ratio
        if settings.keep_ratio is not None
        else keep_ratio_for(full, settings.target_ratio, multiple)
    )
    spec = uniform_spec(full, keep, multiple)
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
