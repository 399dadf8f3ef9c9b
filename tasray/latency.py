"""Measured inference latency of pruned networks on this machine, beside their FLOPs.

FLOPs are what the search controls; wall time is what a user prunes for. Latencies are medians
of interleaved runs: every round times each network once, in turn, so that other load on the
machine slows all of them alike and ratios between them stay meaningful.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

import torch

from tasray.arch import ArchSpec
from tasray.models.resnet import PrunedResNet


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def interleaved_latency(
    specs: Sequence[ArchSpec],
    batch_size: int,
    device: torch.device,
    *,
    rounds: int = 10,
    warmup: int = 2,
) -> list[float]:
    """Median seconds of one eval-mode forward pass of a `batch_size` batch, for each spec."""
    models = [PrunedResNet(spec).eval().to(device) for spec in specs]
    inputs = [
        torch.randn(batch_size, spec.in_channels, *spec.input_size, device=device) for spec in specs
    ]
    times: list[list[float]] = [[] for _ in specs]
    for round_ in range(warmup + rounds):
        for index, (model, x) in enumerate(zip(models, inputs, strict=True)):
            _synchronize(device)
            start = time.perf_counter()
            model(x)
            _synchronize(device)
            if round_ >= warmup:
                times[index].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]
