"""Top-k accuracy and evaluation, exact under data parallelism (each rank scores its own shard)."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset

from tasray.stages.runtime import all_reduce_sum, rank_and_world


def topk_correct(logits: Tensor, targets: Tensor, ks: tuple[int, ...] = (1, 5)) -> list[int]:
    """Number of samples whose target is among the top-k logits, for each k (k capped at #classes)."""
    top = logits.topk(min(max(ks), logits.shape[1]), dim=1).indices
    hits = top == targets[:, None]
    return [int(hits[:, : min(k, logits.shape[1])].any(dim=1).sum()) for k in ks]


@torch.no_grad()
def batch_totals(loss: Tensor, logits: Tensor, targets: Tensor) -> Tensor:
    """(loss sum, top-1 hits, count) of a training batch, kept on the device (no host sync)."""
    hits = (logits.argmax(dim=1) == targets).sum()
    n = torch.tensor(len(targets), device=logits.device)
    return torch.stack([loss.detach() * n, hits, n]).double()


@torch.no_grad()
def evaluate(
    forward: Callable[[Tensor], Tensor], dataset: Dataset, batch_size: int, device: torch.device
) -> dict[str, float]:
    """Top-1/top-5 accuracy (percent), mean cross-entropy and images/s over the whole `dataset`."""
    rank, world = rank_and_world()
    shard = Subset(dataset, range(rank, len(dataset), world))  # disjoint, no padding: exact counts
    totals = torch.zeros(4, dtype=torch.float64)  # top1, top5, loss sum, count
    start = time.perf_counter()
    for images, targets in DataLoader(shard, batch_size=batch_size):
        images, targets = images.to(device), targets.to(device)
        logits = forward(images)
        top1, top5 = topk_correct(logits, targets)
        loss = torch.nn.functional.cross_entropy(logits, targets, reduction="sum")
        totals += torch.tensor([top1, top5, float(loss), len(targets)], dtype=torch.float64)
    seconds = time.perf_counter() - start
    totals = all_reduce_sum(totals.to(device)).cpu()
    count = max(float(totals[3]), 1.0)
    return {
        "top1": 100 * float(totals[0]) / count,
        "top5": 100 * float(totals[1]) / count,
        "loss": float(totals[2]) / count,
        "eval_images_per_s": float(totals[3]) / max(seconds, 1e-9) / world,
    }
