"""One TAS search iteration vs a plain training step of the unpruned network, on the same two batches.

Search iteration = weights step (forward, CE, backward, SGD) on batch A + architecture step (forward,
CE + cost loss, backward, Adam) on batch B. Plain step = two SGD steps of the unpruned network on A
and B. Each measurement runs in its own process so that peak RSS (above the torch import) is its own.

    python bench/search_step.py [--models cifar_resnet56 cifar_resnet20] [--batch 64] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(mode: str, model: str, batch: int, device: str, iters: int, size: int) -> dict:
    import torch

    from tasray.arch import ArchSpec
    from tasray.models import create_model
    from tasray.models.search import SearchableResNet, SearchSpace
    from tasray.tas.cost import cost_loss, count_flops

    base_rss = peak_rss_mb()
    torch.manual_seed(0)
    dev = torch.device(device)
    batches = [
        (torch.randn(batch, 3, size, size, device=dev), torch.randint(0, 10, (batch,), device=dev))
        for _ in range(2)
    ]
    ce = torch.nn.functional.cross_entropy
    if mode == "plain":
        net = create_model(model, 10, 3, (size, size)).to(dev).train()
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)

        def step() -> None:
            for x, y in batches:
                opt.zero_grad(set_to_none=True)
                ce(net(x), y).backward()
                opt.step()
    else:
        spec = ArchSpec.full(model, 10, 3, (size, size))
        net = SearchableResNet(spec, SearchSpace()).to(dev).train()
        net.tau = 5.0
        full = count_flops(spec)
        w_opt = torch.optim.SGD(net.weight_parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        a_opt = torch.optim.Adam(net.arch_parameters(), lr=1e-3, weight_decay=1e-3)

        def step() -> None:
            (xa, ya), (xb, yb) = batches
            w_opt.zero_grad(set_to_none=True)
            ce(net(xa).logits, ya).backward()
            w_opt.step()
            a_opt.zero_grad(set_to_none=True)
            out = net(xb)
            ratio = net.derive_arch()
            loss = ce(out.logits, yb) + 2.0 * cost_loss(
                out.expected_flops / full, count_flops(ratio) / full, 0.5, 0.05
            )
            loss.backward()
            a_opt.step()

    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    for _ in range(3):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(iters):
        step()
    sync()
    seconds = (time.perf_counter() - start) / iters
    peak = (torch.cuda.max_memory_allocated() / 2**20) if dev.type == "cuda" else peak_rss_mb() - base_rss
    return {"seconds": seconds, "peak_mb": peak}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["cifar_resnet56", "cifar_resnet20"])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--one", nargs=2, metavar=("MODE", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], args.one[1], args.batch, args.device, args.iters, args.size)))
        return
    memory = "peak CUDA MiB" if args.device.startswith("cuda") else "peak RSS MiB"
    print(f"batch {args.batch}, {args.size}x{args.size}x3, device {args.device}, {args.iters} iterations")
    header = f"{'model':<16}{'plain s/it':>11}{'search s/it':>12}{'time ratio':>11}"
    print(header + f"{memory + ' p/s':>22}{'mem ratio':>10}")
    for model in args.models:
        result = {}
        for mode in ("plain", "search"):
            cmd = [
                sys.executable,
                __file__,
                "--one",
                mode,
                model,
                "--batch",
                str(args.batch),
                "--size",
                str(args.size),
                "--device",
                args.device,
                "--iters",
                str(args.iters),
            ]
            result[mode] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        p, s = result["plain"], result["search"]
        print(
            f"{model:<16}{p['seconds']:>11.3f}{s['seconds']:>12.3f}{s['seconds'] / p['seconds']:>11.2f}"
            f"{p['peak_mb']:>11.0f}/{s['peak_mb']:<10.0f}{s['peak_mb'] / p['peak_mb']:>10.2f}"
            + f"   images/s plain {2 * args.batch / p['seconds']:.0f}"
            + f", search {2 * args.batch / s['seconds']:.0f}"
        )


if __name__ == "__main__":
    main()
