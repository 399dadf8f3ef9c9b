"""Channel importance criteria, as Torch-Pruning implements them (`torch_pruning.importance`).

Each criterion scores the channels of a dependency group: a conv's filters together with its
BatchNorm and the input slices of the layers it feeds, and, for a residual stream, every conv
whose output meets in the additions. The library's defaults are kept (scores averaged over the
group's layers, then divided by their mean), as a Torch-Pruning user gets them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import islice

import torch
import torch.nn.functional as F
import torch_pruning as tp
from torch import nn
from torch.utils.data import Dataset

from tasray.data import make_loader


@dataclass(frozen=True)
class Criterion:
    """One importance criterion.

    Args:
        name: its id, the first part of a method name (``l1`` in ``l1_global``).
        label: its display name.
        importance: builds Torch-Pruning's importance estimator.
        reference: the published method it stands for, for the README and ``validate``.
        gradients: the scores read the loss gradient of the teacher's weights (Taylor).
    """

    name: str
    label: str
    importance: Callable[[], tp.importance.Importance]
    reference: str
    gradients: bool = False


CRITERIA: dict[str, Criterion] = {
    c.name: c
    for c in (
        Criterion(
            "l1", "L1", partial(tp.importance.MagnitudeImportance, p=1), "filter L1 norm (Li et al. 2017)"
        ),
        Criterion("l2", "L2", partial(tp.importance.MagnitudeImportance, p=2), "filter L2 norm"),
        Criterion(
            "bn_scale", "BN scale", tp.importance.BNScaleImportance, "network slimming (Liu et al. 2017)"
        ),
        Criterion(
            "taylor",
            "Taylor",
            tp.importance.TaylorImportance,
            "first-order Taylor (Molchanov et al. 2019)",
            gradients=True,
        ),
        Criterion("fpgm", "FPGM", tp.importance.FPGMImportance, "geometric median (He et al. 2019)"),
        Criterion("lamp", "LAMP", tp.importance.LAMPImportance, "LAMP (Lee et al. 2021)"),
        Criterion("random", "random", tp.importance.RandomImportance, "random filters"),
    )
}


def accumulate_gradients(
    model: nn.Module, data: Dataset, batches: int, batch_size: int, seed: int, device: torch.device
) -> None:
    """Sum the cross-entropy gradient of `batches` shuffled batches of `data` into `model`'s
    `.grad` (eval mode: the teacher's BatchNorm statistics stay as trained)."""
    model.eval().to(device).zero_grad(set_to_none=True)
    loader = make_loader(data, batch_size, shuffle=True, seed=seed)
    for images, targets in islice(loader, batches):
        F.cross_entropy(model(images.to(device)), targets.to(device)).backward()
    model.cpu()
