"""One TAS search iteration vs a plain training step of the unpruned network, on the same two batches.

Search iteration = `SearchStage.weights_step` (forward, CE, backward, SGD) on batch A +
`SearchStage.arch_step` (forward, CE + cost loss, backward, Adam) on batch B. Plain step = two steps
of the unpruned network on A and B with the same SGD settings (`sgd_cosine`), in NCHW (the training
stages' default) and in NHWC (`resources.channels_last: true`; the search keeps its maps NHWC).

Times come from one process that runs plain, plain NHWC and search iterations in turn; each ratio is
the median (and range) of the per-round ratios, so that drifts of a noisy machine hit all modes alike.
On CPU one thread is timed by its CPU time by default (`--threads 1 --clock cpu`), which leaves out
the time spent waiting for a core on a shared machine. Peak memory comes from one process per mode
(peak RSS above the RSS after imports and a warm-up, or peak CUDA memory), so that each peak is its own.
Each process gets the environment `tasray run` gives that kind of job (`tasray.engine.jobs`).

    python bench/search_step.py [--models cifar_resnet56 cifar_resnet20] [--batch 64] [--device cpu]

On CPU the peak RSS also depends on the C allocator; the header line names the one in use
(LD_PRELOAD, or the C library's malloc).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable


def rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, from /proc (Linux)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def reset_peak_rss() -> None:
    """Restart VmHWM from the current RSS, so that import-time peaks are not counted."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def build_steps(model: str, batch: int, size: int, device: str) -> dict[str, Callable[[], None]]:
    """The plain (NCHW and NHWC) and the search iteration, each on the same two random batches."""
    import torch
    from torch.utils.data import TensorDataset

    from tasray.config.sections import SearchConfig
    from tasray.costs.flops import FlopsCost
    from tasray.engine.settings import search_settings
    from tasray.models import create_model
    from tasray.spec.arch import ArchSpec
    from tasray.stages.optim import sgd_cosine
    from tasray.stages.search import SearchStage

    torch.manual_seed(0)
    dev = torch.device(device)
    batches = [
        (torch.randn(batch, 3, size, size, device=dev), torch.randint(0, 10, (batch,), device=dev))
        for _ in range(2)
    ]
    settings = search_settings(SearchConfig(epochs=1))

    def plain_step(memory_format: torch.memory_format) -> Callable[[], None]:
        torch.manual_seed(0)
        plain = create_model(model, 10, 3, (size, size)).to(dev, memory_format=memory_format).train()
        opt, schedule = sgd_cosine(plain.parameters(), settings.weights, 10**6)
        inputs = [(x.contiguous(memory_format=memory_format), y) for x, y in batches]

        def step() -> None:
            for x, y in inputs:
                loss = torch.nn.functional.cross_entropy(plain(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                schedule.step()

        return step

    data = TensorDataset(torch.cat([x for x, _ in batches]).cpu(), torch.cat([y for _, y in batches]).cpu())
    full = ArchSpec.full(model, 10, 3, (size, size))
    stage = SearchStage(full, settings, FlopsCost(), data, data, batch, dev)
    stage.network.train().tau = 5.0  # mid-search: both sampled candidates carry weight

    def search_step() -> None:
        (xa, ya), (xb, yb) = batches
        stage.weights_step(xa, ya)
        stage.arch_step(xb, yb)

    return {
        "plain": plain_step(torch.contiguous_format),
        "plain_nhwc": plain_step(torch.channels_last),
        "search": search_step,
    }


def warm_up(device: str) -> None:
    """Pay the lazy imports of the first optimizer step before the memory baseline is taken."""
    import torch

    p = torch.nn.Parameter(torch.zeros(1, device=device))
    p.grad = torch.zeros_like(p)
    torch.optim.SGD([p], lr=0.1).step()
    torch.optim.Adam([p]).step()


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_all(
    model: str, batch: int, size: int, device: str, iters: int, clock: str
) -> dict[str, list[float]]:
    """Seconds per iteration of each mode, measured in turn in this process, `iters` rounds."""
    steps = build_steps(model, batch, size, device)
    timer = time.process_time if clock == "cpu" else time.perf_counter
    times: dict[str, list[float]] = {mode: [] for mode in steps}
    for _ in range(3):
        for step in steps.values():
            step()
    for _ in range(iters):
        for mode, step in steps.items():
            sync(device)
            start = timer()
            step()
            sync(device)
            times[mode].append(timer() - start)
    return times


def ratio(times: dict[str, list[float]], mode: str, base: str) -> tuple[float, float, float]:
    """Median, lowest and highest of the per-round ratios of `mode` to `base`."""
    ratios = [a / b for a, b in zip(times[mode], times[base], strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)


def peak_memory(mode: str, model: str, batch: int, size: int, device: str, iters: int) -> float:
    """MiB: peak CUDA memory, or peak RSS above the warm start, of `iters` iterations of `mode`."""
    import torch

    warm_up(device)
    reset_peak_rss()
    base = rss_mb("VmRSS")
    step = build_steps(model, batch, size, device)[mode]
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    for _ in range(iters + 3):
        step()
    sync(device)
    return torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else rss_mb("VmHWM") - base


def job_env(mode: str) -> dict[str, str]:
    """The environment tasray gives the processes of `mode`: the search's small oneDNN cache (see
    `tasray.engine.jobs.SEARCH_WORKER_ENV`); variables already set here win, as under `tasray run`."""
    from tasray.engine.jobs import SEARCH_WORKER_ENV

    return {**(SEARCH_WORKER_ENV if mode == "search" else {}), **os.environ}


def in_subprocess(env: dict[str, str], *args: str) -> dict | float:
    cmd = [sys.executable, __file__, *args]
    return json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["cifar_resnet56", "cifar_resnet20"])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (CPU)")
    parser.add_argument(
        "--clock", choices=["cpu", "wall"], help="cpu: process CPU time (default on CPU); wall: elapsed"
    )
    parser.add_argument(
        "--memory-of",
        nargs=2,
        metavar=("MODE", "MODEL"),
        help="print only the peak memory (MiB) of MODE (plain or search) on MODEL, measured in this process",
    )
    parser.add_argument("--times-of", metavar="MODEL", help="print only the median times, measured here")
    args = parser.parse_args()
    clock = args.clock or ("cpu" if args.device == "cpu" else "wall")
    if clock == "cpu" and args.device != "cpu":
        parser.error(f"--clock cpu times CPU work; the device is {args.device}")
    if args.device == "cpu":
        import torch

        torch.set_num_threads(args.threads)
    shape = (args.batch, args.size, args.device, args.iters)
    if args.memory_of:
        print(json.dumps(peak_memory(*args.memory_of, *shape)))
        return
    if args.times_of:
        print(json.dumps(time_all(args.times_of, *shape, clock)))
        return
    common = ["--batch", str(args.batch), "--size", str(args.size), "--device", args.device]
    common += ["--iters", str(args.iters), "--threads", str(args.threads), "--clock", clock]
    memory = "peak CUDA MiB" if args.device.startswith("cuda") else "peak RSS MiB"
    allocator = os.environ.get("LD_PRELOAD") or "the C library's malloc"
    threads = f", {args.threads} thread(s)" if args.device == "cpu" else ""
    print(
        f"batch {args.batch}, {args.size}x{args.size}x3, device {args.device}{threads}, {clock} clock, "
        f"{args.iters} rounds; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    from tasray.engine.jobs import SEARCH_WORKER_ENV

    search_env = job_env("search")
    print(f"allocator: {allocator}")
    print("search processes: " + ", ".join(f"{key}={search_env[key]}" for key in SEARCH_WORKER_ENV))
    print("s/it: median [lowest-highest] of the rounds; search/plain: median [range] of per-round ratios")
    header = f"{'model':<16}{'plain s/it':>20}{'NHWC plain':>20}{'search s/it':>20}"
    print(header + f"{'search/plain':>20}{'search/NHWC':>20}{memory + ' p/s':>22}{'mem ratio':>10}")
    for model in args.models:
        # All modes alternate in one process, in the search's environment: the dozen conv shapes of
        # an unpruned CIFAR ResNet fit either oneDNN cache.
        times = in_subprocess(job_env("search"), "--times-of", model, *common)
        mb = {
            mode: in_subprocess(job_env(mode), "--memory-of", mode, model, *common)
            for mode in ("plain", "search")
        }
        cells = [
            f"{statistics.median(t):.3f} [{min(t):.3f}-{max(t):.3f}]"
            for t in (times["plain"], times["plain_nhwc"], times["search"])
        ]
        ratios = [ratio(times, "search", base) for base in ("plain", "plain_nhwc")]
        cells += [f"{m:.2f} [{lo:.2f}-{hi:.2f}]" for m, lo, hi in ratios]
        print(
            f"{model:<16}"
            + "".join(f"{c:>20}" for c in cells)
            + f"{mb['plain']:>11.0f}/{mb['search']:<10.0f}{mb['search'] / mb['plain']:>10.2f}"
        )


if __name__ == "__main__":
    main()
