"""SGD with a per-step cosine learning rate (the paper's schedule for weights)."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


def sgd_cosine(
    params: Iterable[nn.Parameter], lr: float, momentum: float, weight_decay: float, total_steps: int
) -> tuple[torch.optim.SGD, torch.optim.lr_scheduler.CosineAnnealingLR]:
    optimizer = torch.optim.SGD(
        params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=momentum > 0
    )
    return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, total_steps))
