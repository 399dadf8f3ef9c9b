"""One-line warnings about a run that goes on but is likely wasting its time: a teacher no better
than chance or whose training diverged, and an architecture learning rate the search cannot use.

They are warnings, not errors: a deliberately tiny smoke run can trip them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tasray.config import Experiment
from tasray.config.geometry import train_images
from tasray.engine.pipeline import Teacher
from tasray.engine.settings import search_settings

CHANCE_POINTS = 5.0  # a teacher's top-1 within this many points of 100 / classes is at chance
# Adam moves each parameter by about its learning rate per step (its update is normalised), so one
# step can widen the gap between two candidates' logits by 2·lr. From a gap of ln 99 on, the
# softmax makes one candidate 99 times as likely as the other: the choice is made in one step, and
# the losing candidate's share of the gradient (p(1 − p) < 1%) can hardly undo it.
SATURATING_ODDS = 99.0
MAX_ARCH_RATE = math.log(SATURATING_ODDS) / 2  # ≈ 2.30 logit units per step


def teacher_warnings(top1: float, classes: int, losses: Sequence[float]) -> list[str]:
    """Warnings for a teacher at chance (top-1 within `CHANCE_POINTS` of 100 / `classes`) or
    diverging (a non-finite loss, or a last epoch's training loss above the first's)."""
    warnings = []
    chance = 100.0 / classes
    if abs(top1 - chance) <= CHANCE_POINTS:
        warnings.append(
            f"the teacher's top-1 {top1:.2f}% is at chance ({chance:.2f}% for {classes} classes): "
            "pruning it measures nothing; train it longer or check teacher.lr, the data and the labels"
        )
    if not all(math.isfinite(loss) for loss in losses):
        warnings.append("the teacher's loss is not finite (NaN or inf): training diverged; lower teacher.lr")
    elif len(losses) > 1 and losses[-1] > losses[0]:
        warnings.append(
            f"the teacher's training loss rose from {losses[0]:.3g} to {losses[-1]:.3g} over "
            f"{len(losses)} epochs: training diverged; lower teacher.lr"
        )
    return warnings


def arch_rate_warning(rate: float, steps: int) -> str | None:
    """A warning when Adam's rate for α and β (`ArchOptimSettings.rate`) saturates the softmax in
    one step (above `MAX_ARCH_RATE`); None otherwise."""
    if rate <= MAX_ARCH_RATE:
        return None
    return (
        f"the architecture learning rate is {rate:.3g} (max(search.arch_lr, search.arch_travel / "
        f"{steps} steps)): one step can make a width or depth {SATURATING_ODDS:.0f} times as likely "
        f"as another, deciding the search before it learns; keep it at or below {MAX_ARCH_RATE:.2f} "
        "(lower search.arch_travel or search.arch_lr, or search longer)"
    )


def search_steps(exp: Experiment) -> int | None:
    """Architecture steps of the experiment's search: one per D_train batch of each worker, per
    epoch (D_train is the larger half of the training set); None when its size is unknown."""
    images = train_images(exp.data)  # from headers and names: no image is loaded
    if images is None:
        return None
    per_worker = math.ceil((images + 1) // 2 / exp.resources.num_workers)
    return exp.search.epochs * math.ceil(per_worker / exp.data.batch_size)


def run_warnings(exp: Experiment, teacher: Teacher) -> list[str]:
    """Every warning about `exp` and its teacher, trained, loaded or cached."""
    warnings = teacher_warnings(teacher.top1, teacher.spec.num_classes, teacher.losses)
    steps = search_steps(exp)
    if steps is None or exp.sweep.num_tas_trials == 0:
        return warnings
    rate = search_settings(exp.search).arch.rate(steps)
    return warnings + [w for w in [arch_rate_warning(rate, steps)] if w is not None]
