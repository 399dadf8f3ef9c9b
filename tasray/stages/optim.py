"""Optimisation helpers: SGD with a per-step cosine learning rate (the paper's schedule for weights),
and freezing one parameter group while the other is stepped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import nn


def sgd_cosine(
    params: Iterable[nn.Parameter], lr: float, momentum: float, weight_decay: float, total_steps: int
) -> tuple[torch.optim.SGD, torch.optim.lr_scheduler.CosineAnnealingLR]:
    optimizer = torch.optim.SGD(
        params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=momentum > 0
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
