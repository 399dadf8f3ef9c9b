"""Torch-Pruning's dependency graph on a teacher, read back as an ArchSpec and kept filters.

`tp.pruner.MetaPruner` groups the layers whose channels must go together (a conv with its
BatchNorm and the layers it feeds; every conv of a residual stream, whose outputs meet in
additions), scores each group with a criterion and picks the channels to drop, per group
(uniform allocation) or by one ranking over all groups (global). Its interactive step hands the
picks over without pruning anything, so every index is one of the teacher's; they become the
pruned widths and the `kept_channels` of `init` transfer. The pruning ratio that meets a cost
target is found by bisection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch_pruning as tp

from tasray.costs import Cost
from tasray.models.resnet import PrunedResNet
from tasray.spec.arch import ArchSpec
from tasray.stages.transfer import conv_layers

BISECTION_STEPS = 30


@dataclass(frozen=True)
class Pruned:
    """What Torch-Pruning keeps at one pruning ratio: the architecture and the teacher filters
    each conv keeps (ascending teacher indices)."""

    spec: ArchSpec
    kept_channels: list[list[int]]


def prune_plan(
    teacher: PrunedResNet,
    importance: tp.importance.Importance,
    ratio: float,
    *,
    global_pruning: bool,
    round_to: int = 1,
    seed: int = 0,
) -> Pruned:
    """The filters Torch-Pruning drops from `teacher` at pruning ratio `ratio` (the fraction of
    channels removed: of every group with uniform allocation, of all of them with global), with
    widths rounded down to multiples of `round_to`. The teacher is not changed (Taylor reads the
    gradients already in its ``.grad``)."""
    full = teacher.spec
    pruner = tp.pruner.MetaPruner(
        teacher,
        torch.zeros(1, full.in_channels, *full.input_size),
        importance,
        global_pruning=global_pruning,
        pruning_ratio=ratio,
        round_to=round_to if round_to > 1 else None,
        ignored_layers=[teacher.fc],  # the classes stay
    )
    conv_index = {conv: key[1] for key, conv, _, _ in conv_layers(teacher) if key[0] == "conv"}
    dropped: dict[int, set[int]] = {}
    with torch.random.fork_rng():  # the random criterion draws from torch's generator
        torch.manual_seed(seed)
        for group in pruner.step(interactive=True):  # groups are yielded, never pruned
            for dependency, indices in group:
                module = dependency.target.module
                if module in conv_index and pruner.DG.is_out_channel_pruning_fn(dependency.handler):
                    dropped[conv_index[module]] = set(indices)
    kept = [[c for c in range(width) if c not in dropped.get(i, ())] for i, width in enumerate(full.widths)]
    spec = ArchSpec(
        full.model, [len(k) for k in kept], full.depths, full.in_channels, full.input_size, full.num_classes
    )
    return Pruned(spec, kept)


def prune_to_target(
    teacher: PrunedResNet,
    importance: tp.importance.Importance,
    target: float,
    cost: Cost,
    *,
    global_pruning: bool,
    round_to: int = 1,
    seed: int = 0,
) -> Pruned:
    """The `prune_plan` whose cost ratio is closest to `target`, by bisection on the pruning ratio
    (the cost falls as it grows). Training mode is left as it was; the trace runs in eval mode,
    so the teacher's BatchNorm statistics do not move."""
    mode = teacher.training
    teacher.eval()
    lo, hi, tried = 0.0, 1.0, []
    with one_thread():
        for _ in range(BISECTION_STEPS):
            mid = (lo + hi) / 2
            pruned = prune_plan(
                teacher, importance, mid, global_pruning=global_pruning, round_to=round_to, seed=seed
            )
            ratio = cost.ratio(pruned.spec)
            tried.append((abs(ratio - target), mid, pruned))
            lo, hi = (mid, hi) if ratio > target else (lo, mid)
    teacher.train(mode)
    return min(tried, key=lambda t: t[:2])[2]


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one CPU thread: a trace and its scores are thousands of tiny ops, and on a
    busy machine each op's thread synchronisation costs more than the op (a ResNet-20 bisection
    took 74 s on two threads under load, 2.8 s on one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
