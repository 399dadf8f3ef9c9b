"""Optimisation helpers: SGD with a per-step cosine learning rate (the paper's schedule for weights),
and freezing one parameter group while the other is stepped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from tasray.stages.runtime import scaled_lr


@dataclass(frozen=True)
class SGDSettings:
    """SGD with Nesterov momentum; `lr` is the rate for one worker's batch (see `scaled_lr`)."""

    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4


def sgd_cosine(
    params: Iterable[nn.Parameter], settings: SGDSettings, total_steps: int
) -> tuple[torch.optim.SGD, torch.optim.lr_scheduler.CosineAnnealingLR]:
    """SGD at the global batch's rate, decayed to 0 by a per-step cosine over `total_steps`."""
    optimizer = torch.optim.SGD(
        params,
        lr=scaled_lr(settings.lr),
        momentum=settings.momentum,
        weight_decay=settings.weight_decay,
        nesterov=settings.momentum > 0,
    )
    return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, total_steps))


@contextmanager
def frozen(params: Iterable[nn.Parameter]) -> Iterator[None]:
    """No gradient flows to `params` inside the block.

    Autograd then neither computes their gradients nor keeps the tensors only those gradients need:
    the search's weights step skips α and β, its architecture step skips every conv weight.
    """
    params = [p for p in params if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)
