"""Top-k accuracy and evaluation, exact under data parallelism (each rank scores its own shard).

Counts stay on the device until the end of a pass: no batch waits for the host (`.item()`,
`int(...)`), so on a GPU the next batch's copy and forward queue up behind the current one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import Tensor
from torch.utils.data import Dataset, Subset

from tasray.data import LoaderOptions, make_loader
from tasray.stages.runtime import all_reduce_sum, rank_and_world
from tasray.stages.speed import SpeedSettings


@torch.no_grad()
def topk_hits(logits: Tensor, targets: Tensor, ks: tuple[int, ...] = (1, 5)) -> Tensor:
    """Number of samples whose target is among the top-k logits, for each k (k capped at #classes)."""
    top = logits.topk(min(max(ks), logits.shape[1]), dim=1).indices
    hits = top == targets[:, None]
    return torch.stack([hits[:, : min(k, logits.shape[1])].any(dim=1).sum() for k in ks])


@torch.no_grad()
def batch_totals(loss: Tensor, logits: Tensor, targets: Tensor) -> Tensor:
    """(loss sum, top-1 hits, count) of a training batch, kept on the device (no host sync)."""
    hits = (logits.argmax(dim=1) == targets).sum()
    n = torch.tensor(len(targets), device=logits.device)
    return torch.stack([loss.detach() * n, hits, n]).double()


@torch.no_grad()
def evaluate(
    forward: Callable[[Tensor], Tensor],
    dataset: Dataset,
    batch_size: int,
    device: torch.device,
    *,
    options: LoaderOptions | None = None,
    speed: SpeedSettings | None = None,
) -> dict[str, float]:
    """Top-1/top-5 accuracy (percent), mean cross-entropy and images/s over the whole `dataset`."""
    speed = speed or SpeedSettings()
    rank, world = rank_and_world()
    shard = Subset(dataset, range(rank, len(dataset), world))  # disjoint, no padding: exact counts
    loader_options = options or LoaderOptions()
    if loader_options.workers > 0:  # a fresh loader per pass: its workers need not outlive it
        loader_options = LoaderOptions(loader_options.workers, loader_options.pin_memory, False)
    loader = make_loader(shard, batch_size, shuffle=False, options=loader_options)
    totals = torch.zeros(4, dtype=torch.float64, device=device)  # top1, top5, loss sum, count
    start = time.perf_counter()
    for images, targets in loader:
        images, targets = speed.input(images, device), targets.to(device, non_blocking=True)
        with speed.autocast(device):
            logits = forward(images)
        loss = torch.nn.functional.cross_entropy(logits.float(), targets, reduction="sum")
        count = torch.tensor([len(targets)], device=device)
        totals += torch.cat([topk_hits(logits, targets), loss[None], count]).double()
    totals = all_reduce_sum(totals).cpu()  # the one host sync of the pass
    seconds = time.perf_counter() - start
    count = max(float(totals[3]), 1.0)
    return {
        "top1": 100 * float(totals[0]) / count,
        "top5": 100 * float(totals[1]) / count,
        "loss": float(totals[2]) / count,
        "eval_images_per_s": float(totals[3]) / max(seconds, 1e-9) / world,
    }
