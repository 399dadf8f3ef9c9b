"""The latency measurement protocol: how tasray times a forward pass, a latency-table unit or a
whole network, the same way everywhere (`tasray latency-table`, `flops --latency`, results rows).

- Warm-up rounds run every callable (kernel selection, allocator, caches) and are not timed.
- Timed rounds are interleaved: each round calls every callable once, in turn, so load that comes
  and goes slows all of them alike.
- Every call starts with a cold cache: an untimed write of a buffer twice the size of the L2 cache
  comes before it, so a call does not find what its predecessor left there. Without it a small
  network timed after a big one was 18 % slower than timed alone, and table units, each timed
  among hundreds of others, added up to 8–15 % less than a ResNet-56 measured whole (see README).
- On a CPU shared with other jobs (`clock="cpu"`), one intra-op thread is timed by its own CPU
  time (`time.thread_time`), which leaves out the time the thread waited for a core. `clock="wall"`
  times wall clock with any thread count, for a quiet machine. On CUDA every call is timed by CUDA
  events recorded around it on the current stream, after a synchronisation, and read after the
  end event has completed.
- The figure is the fastest timed call (as `timeit` advises): slower calls are the machine's other
  work (preemption, caches flushed by other processes), which is not the network's. The median and
  the interquartile range are kept as the spread; an IQR above `MAX_SPREAD` of the median, the
  threshold at which `torch.utils.benchmark` warns, flags a measurement as disturbed.
- The timer's own cost, measured as an empty callable in the same rounds, is taken off every call.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

import torch

from tasray.models.factory import build_network
from tasray.spec.arch import ArchSpec

Clock = Literal["cpu", "wall"]
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
MAX_SPREAD = 0.10  # torch.utils.benchmark's Measurement warns above this IQR / median
CPU_L2_FILE = Path("/sys/devices/system/cpu/cpu0/cache/index2/size")  # e.g. "1024K"
DEFAULT_L2_BYTES = 2**21


@dataclass(frozen=True)
class TimingProtocol:
    """How to time: device, clock, threads, dtype and the number of rounds.

    Args:
        device: ``cpu``, ``cuda`` or ``cuda:N``.
        clock: on a CPU, ``cpu`` (CPU time of one thread; shared machines) or ``wall``; CUDA
            devices always use CUDA events.
        threads: intra-op threads with the wall clock (None: PyTorch's default); the CPU clock
            uses one.
        dtype: ``float32``, ``bfloat16`` or ``float16`` weights and inputs.
        warmup: untimed rounds first.
        rounds: timed rounds.
    """

    device: str = "cpu"
    clock: Clock = "cpu"
    threads: int | None = None
    dtype: str = "float32"
    warmup: int = 3
    rounds: int = 100

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    @property
    def timer(self) -> str:
        """What times the calls: ``cuda events``, ``cpu time`` (of one thread) or ``wall clock``."""
        if self.torch_device.type == "cuda":
            return "cuda events"
        return "cpu time" if self.clock == "cpu" else "wall clock"


@dataclass(frozen=True)
class Timing:
    """Seconds of every timed call of one callable, the timer's own cost removed."""

    samples: tuple[float, ...]

    @property
    def best(self) -> float:
        """The latency: the fastest call."""
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def iqr(self) -> tuple[float, float]:
        if len(self.samples) < 2:
            return self.samples[0], self.samples[0]
        low, _, high = statistics.quantiles(self.samples, n=4)
        return low, high

    @property
    def spread(self) -> float:
        """Interquartile range over the median: how disturbed the machine was."""
        low, high = self.iqr
        return (high - low) / self.median if self.median > 0 else 0.0

    @property
    def trusted(self) -> bool:
        return self.spread <= MAX_SPREAD

    def describe(self) -> str:
        """E.g. ``0.71 ms (median 0.80, IQR 0.74–0.93 over 100 runs)``."""
        low, high = self.iqr
        return (
            f"{self.best * 1e3:.3g} ms (median {self.median * 1e3:.3g}, "
            f"IQR {low * 1e3:.3g}–{high * 1e3:.3g} over {len(self.samples)} runs)"
        )


@contextlib.contextmanager
def protocol_threads(protocol: TimingProtocol) -> Iterator[int]:
    """Run with the protocol's intra-op thread count (restored afterwards); yields that count."""
    before = torch.get_num_threads()
    wanted = 1 if protocol.clock == "cpu" and protocol.torch_device.type == "cpu" else protocol.threads
    torch.set_num_threads(wanted or before)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


@torch.no_grad()
def time_runs(runs: Sequence[Callable[[], object]], protocol: TimingProtocol) -> list[Timing]:
    """A `Timing` of each callable under `protocol` (warm-up, interleaved rounds, timer cost removed)."""
    device = protocol.torch_device
    clock = protocol.clock if device.type == "cpu" else "wall"
    with protocol_threads(protocol):
        times = interleaved_times(
            [*runs, lambda: None], device, rounds=protocol.rounds, warmup=protocol.warmup, clock=clock
        )
    overhead = min(times[-1])
    return [Timing(tuple(max(0.0, t - overhead) for t in samples)) for samples in times[:-1]]


def network_runs(
    specs: Sequence[ArchSpec], batch_size: int, protocol: TimingProtocol, channels_last: bool = False
) -> list[Callable[[], object]]:
    """One eval-mode forward of each spec's network on a random `batch_size` batch, ready to time
    (`channels_last`: network and input in NHWC, as `resources.channels_last` runs them)."""
    device, dtype = protocol.torch_device, protocol.torch_dtype
    layout = torch.channels_last if channels_last else torch.contiguous_format
    runs = []
    for spec in specs:
        model = build_network(spec).eval().to(device=device, dtype=dtype, memory_format=layout)
        x = torch.randn(batch_size, spec.in_channels, *spec.input_size, device=device, dtype=dtype)
        runs.append(partial(model, x.contiguous(memory_format=layout)))
    return runs


def time_networks(
    specs: Sequence[ArchSpec], batch_size: int, protocol: TimingProtocol, channels_last: bool = False
) -> list[Timing]:
    """The forward latency of each spec's network, timed in the same interleaved rounds."""
    return time_runs(network_runs(specs, batch_size, protocol, channels_last), protocol)


@torch.no_grad()
def interleaved_times(
    runs: Sequence[Callable[[], object]],
    device: torch.device,
    *,
    rounds: int = 10,
    warmup: int = 2,
    clock: Clock = "wall",
) -> list[list[float]]:
    """Seconds of every timed call of each run: `warmup` untimed rounds, then `rounds` timed ones,
    each calling every run once, in turn. On a CUDA device every call is timed by CUDA events."""
    if device.type == "cuda":
        return _cuda_times(runs, device, rounds, warmup)
    if clock == "cpu" and device.type != "cpu":
        raise ValueError(f"clock 'cpu' times CPU work; the device is {device.type}")
    timer = time.thread_time if clock == "cpu" else time.perf_counter
    times: list[list[float]] = [[] for _ in runs]
    flush = cache_flush(device)
    for round_ in range(warmup + rounds):
        for index, run in enumerate(runs):
            flush()
            start = timer()
            run()
            if round_ >= warmup:
                times[index].append(timer() - start)
    return times


def l2_cache_bytes(device: torch.device) -> int:
    """The L2 cache of the GPU, or of the CPU's first core (2 MiB where the system does not say)."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).L2_cache_size
    try:
        size = CPU_L2_FILE.read_text().strip()
        return int(size[:-1]) * {"K": 2**10, "M": 2**20}[size[-1]]
    except (OSError, ValueError, KeyError):
        return DEFAULT_L2_BYTES


def cache_flush(device: torch.device) -> Callable[[], object]:
    """A call that writes twice the L2 cache's size on `device`, evicting what ran before."""
    buffer = torch.empty(2 * l2_cache_bytes(device) // 4, device=device)
    return partial(buffer.fill_, 0.0)


def _cuda_times(
    runs: Sequence[Callable[[], object]], device: torch.device, rounds: int, warmup: int
) -> list[list[float]]:
    """CUDA-event seconds of each call: the queue is drained before a call, its events are read after."""
    times: list[list[float]] = [[] for _ in runs]
    flush = cache_flush(device)
    with torch.cuda.device(device):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        for round_ in range(warmup + rounds):
            for index, run in enumerate(runs):
                flush()
                torch.cuda.synchronize(device)
                start.record()
                run()
                end.record()
                end.synchronize()
                if round_ >= warmup:
                    times[index].append(start.elapsed_time(end) / 1e3)  # ms -> s
    return times
