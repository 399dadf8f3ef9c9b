"""Knowledge distillation loss of the paper, Eq. 9–10."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class KDLoss(nn.Module):
    """λ·CE(z, y) + (1 − λ)·L_match, L_match = −Σ softmax(ẑ/T)·log softmax(z/T) (Eq. 9–10).

    As in the paper there is no T² factor on the matching term.

    Example:
        >>> import torch
        >>> loss = KDLoss(lambda_=0.9, temperature=4.0)
        >>> float(loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.tensor([0, 1]))) > 0
        True
    """

    def __init__(self, lambda_: float, temperature: float) -> None:
        super().__init__()
        if not 0 <= lambda_ <= 1 or temperature <= 0:
            raise ValueError(f"KD needs 0 <= lambda <= 1 and T > 0; got {lambda_}, {temperature}")
        self.lambda_, self.temperature = lambda_, temperature

    def forward(self, student: Tensor, teacher: Tensor, targets: Tensor) -> Tensor:
        soft_targets = F.softmax(teacher.detach() / self.temperature, dim=1)
        match = -(soft_targets * F.log_softmax(student / self.temperature, dim=1)).sum(dim=1).mean()
        return self.lambda_ * F.cross_entropy(student, targets) + (1 - self.lambda_) * match
