"""Measured inference latency of pruned networks on this machine, beside their FLOPs.

FLOPs are what the search controls; wall time is what a user prunes for. Latencies are medians
of interleaved runs: every round times each network once, in turn, so that other load on the
machine slows all of them alike and ratios between them stay meaningful. On a CPU shared with
other jobs, `clock="cpu"` times this process's CPU time instead of wall time: with one thread it
equals the wall time of an idle machine and leaves out the time the process waited for a core.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Literal

import torch

from tasray.models.factory import build_network
from tasray.spec.arch import ArchSpec


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
    clock: Literal["wall", "cpu"] = "wall",
    budget_s: float | None = None,
    channels_last: bool = False,
) -> list[float]:
    """Median seconds of one eval-mode forward pass of a `batch_size` batch, for each spec.

    With `budget_s`, timed rounds stop early (after at least one) once the timed rounds took that
    long: a report measures big networks without taking minutes. `channels_last` runs every
    network and input in NHWC (`resources.channels_last`).
    """
    if clock == "cpu" and device.type != "cpu":
        raise ValueError(f"clock 'cpu' times CPU work; the device is {device.type}")
    timer = time.process_time if clock == "cpu" else time.perf_counter
    models = [build_network(spec).eval().to(device) for spec in specs]
    inputs = [torch.randn(batch_size, spec.in_channels, *spec.input_size, device=device) for spec in specs]
    times: list[list[float]] = [[] for _ in specs]
    for round_ in range(warmup + rounds):
        if budget_s is not None and times[0] and sum(map(sum, times)) > budget_s:
            break
        for index, (model, x) in enumerate(zip(models, inputs, strict=True)):
            _synchronize(device)
            start = timer()
            model(x)
            _synchronize(device)
            if round_ >= warmup:
                times[index].append(timer() - start)
    return [statistics.median(t) for t in times]
