"""The criteria researchers compare against, from Torch-Pruning: one method per criterion (L1,
L2, BN scale, Taylor, FPGM, LAMP, random; `tasray.methods.criteria`) and allocation, named
``<criterion>_<allocation>``, e.g. ``l1_uniform`` or ``bn_scale_global``.

- ``uniform``: every dependency group (a conv, or a residual stream of coupled convs) loses the
  same fraction of its channels; only the picks depend on the criterion.
- ``global``: one ranking of every group's scores decides, so the widths come out non-uniform.

The fraction is found by bisection so that the pruned network's cost (`search.cost`) meets the
target R within (1 ± t)·R. Pruning is one-shot, on the trained teacher, and what Torch-Pruning
keeps becomes the ArchSpec and the teacher filters that `init` transfer copies.
"""

from __future__ import annotations

import copy
from functools import partial

import torch
from pydantic import Field

from tasray.config import BaselineSection
from tasray.engine.jobs import dataset
from tasray.engine.runner import default_device
from tasray.errors import TasrayError
from tasray.methods.context import MethodContext, MethodResult
from tasray.methods.criteria import CRITERIA, Criterion, accumulate_gradients
from tasray.methods.group_pruning import prune_to_target
from tasray.methods.registry import Method, register_method

ALLOCATIONS = {"uniform": False, "global": True}
"""Allocation name -> Torch-Pruning's `global_pruning`."""


class ChannelPruningConfig(BaselineSection):
    """A Torch-Pruning criterion and allocation at the cost target R.

    Args:
        method: ``<criterion>_<allocation>``, e.g. ``l1_uniform``, ``taylor_global``.
        width_multiple: kept widths are multiples of this (Torch-Pruning's ``round_to``); unset
            means the experiment's search.width_multiple.
    """

    width_multiple: int | None = Field(None, ge=1)


class TaylorConfig(ChannelPruningConfig):
    """The Taylor criterion's entry.

    Args:
        gradient_batches: batches of D_train whose loss gradient the scores are computed from.
    """

    gradient_batches: int = Field(4, ge=1)


def prune(context: MethodContext, criterion: Criterion, allocation: str) -> MethodResult:
    """Prune the teacher with `criterion` and `allocation` to the entry's cost target."""
    settings, exp, cost = context.baseline, context.experiment, context.cost
    teacher = copy.deepcopy(context.teacher)  # Taylor writes gradients into it
    with torch.random.fork_rng():
        torch.manual_seed(exp.seed)
        if criterion.gradients:
            data = dataset(exp.data, "search_train", exp.seed)
            batches, size = settings.gradient_batches, exp.data.batch_size
            accumulate_gradients(teacher, data, batches, size, exp.seed, default_device())
        pruned = prune_to_target(
            teacher,
            criterion.importance(),
            settings.target_ratio,
            cost,
            global_pruning=ALLOCATIONS[allocation],
            round_to=settings.width_multiple or exp.search.width_multiple,
            seed=exp.seed,
        )
    ratio, tolerance = cost.ratio(pruned.spec), exp.search.tolerance
    if abs(ratio - settings.target_ratio) > tolerance * settings.target_ratio:
        raise TasrayError(
            f"{settings.method} cannot reach target_ratio {settings.target_ratio} of {cost.label} within "
            f"tolerance {tolerance}: the closest pruning gives {ratio:.3f}; lower width_multiple or "
            "widen search.tolerance"
        )
    return MethodResult(pruned.spec, pruned.kept_channels)


def describe(config: ChannelPruningConfig, criterion: Criterion, allocation: str) -> str:
    return f"{criterion.reference}, {allocation}, R = {config.target_ratio:g}"


for _criterion in CRITERIA.values():
    for _allocation in ALLOCATIONS:
        register_method(
            Method(
                f"{_criterion.name}_{_allocation}",
                partial(prune, criterion=_criterion, allocation=_allocation),
                f"{_criterion.label} ({_allocation})",
                config=TaylorConfig if _criterion.gradients else ChannelPruningConfig,
                describe=partial(describe, criterion=_criterion, allocation=_allocation),
            )
        )
