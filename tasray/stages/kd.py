"""Knowledge distillation loss, in the form the TAS authors trained with (paper Eq. 9–10).

The authors' code weighs the two terms as (1 − w)·CE(z, y) + w·T²·KL(softmax(ẑ/T) ‖ softmax(z/T))
with w = 0.9 and T = 4 on CIFAR. Read literally, Eq. 10 has no T² and puts its λ on the hard
labels; the T² keeps the teacher's share of the gradient independent of T (Hinton et al. 2015),
without it the soft term gets about 1/T² of the gradient.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class KDLoss(nn.Module):
    """(1 − weight)·CE(z, y) + weight·T²·KL(softmax(ẑ/T) ‖ softmax(z/T)), the KL averaged per image.

    Args:
        weight: share of the distillation term, in [0, 1] (the authors' α: 0.9).
        temperature: T > 0, softens both distributions (4 in the authors' runs).

    Example:
        >>> import torch
        >>> loss = KDLoss(weight=0.9, temperature=4.0)
        >>> round(float(loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.tensor([0, 1]))), 4)
        0.1099
    """

    def __init__(self, weight: float, temperature: float) -> None:
        super().__init__()
        if not 0 <= weight <= 1 or temperature <= 0:
            raise ValueError(f"KD needs 0 <= weight <= 1 and T > 0; got {weight}, {temperature}")
        self.weight, self.temperature = weight, temperature

    def forward(self, student: Tensor, teacher: Tensor, targets: Tensor) -> Tensor:
        t = self.temperature
        log_student = F.log_softmax(student / t, dim=1)
        log_teacher = F.log_softmax(teacher.detach() / t, dim=1)
        match = F.kl_div(log_student, log_teacher, reduction="batchmean", log_target=True)
        return (1 - self.weight) * F.cross_entropy(student, targets) + self.weight * t * t * match
