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
from collections.abc import Callable, Sequence
from functools import partial
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
    models = [build_network(spec).eval().to(device) for spec in specs]
    inputs = [torch.randn(batch_size, spec.in_channels, *spec.input_size, device=device) for spec in specs]
    runs = [partial(model, x) for model, x in zip(models, inputs, strict=True)]
    times = interleaved_times(runs, device, rounds=rounds, warmup=warmup, clock=clock, budget_s=budget_s)
    return [statistics.median(t) for t in times]


@torch.no_grad()
def interleaved_times(
    runs: Sequence[Callable[[], object]],
    device: torch.device,
    *,
    rounds: int = 10,
    warmup: int = 2,
    clock: Literal["wall", "cpu"] = "wall",
    budget_s: float | None = None,
) -> list[list[float]]:
    """Seconds of every timed call of each run: `warmup` untimed rounds, then up to `rounds` timed
    ones, each calling every run once, in turn (the protocol of `interleaved_latency`)."""
    timer = time.process_time if clock == "cpu" else time.perf_counter
    times: list[list[float]] = [[] for _ in runs]
    for round_ in range(warmup + rounds):
        if budget_s is not None and times[0] and sum(map(sum, times)) > budget_s:
            break
        for index, run in enumerate(runs):
            _synchronize(device)
            start = timer()
            run()
            _synchronize(device)
            if round_ >= warmup:
                times[index].append(timer() - start)
    return times
