"""Wall time of pruned ResNets at R = 0.5 against the unpruned net: does half the FLOPs buy time?

For each model, the fixed-ratio network (the same kept fraction in every conv, by bisection) and
`--samples` architectures sampled from the TAS search space (what a search can return; random
search's sampler, FLOP ratio within R ± t) are built at every width multiple of `--multiples`, plus
any searched ArchSpec JSON given with `--arch`. Their eval-mode forward latencies are measured
with the protocol of `tasray.costs.timing` (interleaved rounds in one process, warm-up excluded,
the fastest run); by default one thread is timed by its CPU time (`--clock cpu`), which leaves
out the time spent waiting for a core on a shared machine.

Q = (latency / unpruned latency) / (FLOPs / unpruned FLOPs): 1 means the time falls as fast as the
FLOPs. The last line is the worst Q over the networks with `--multiple` (the default
`search.width_multiple`), e.g.

    python bench/latency.py [--batch 64] [--multiples 1 8 16] [--threads 1] [--arch searched.json]
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass

import torch

from baselines.fixed_ratio import fixed_ratio_spec
from baselines.random_search import sample_specs
from tasray.config.sections import DEFAULT_WIDTH_MULTIPLE
from tasray.costs.flops import FlopsCost, flop_ratio
from tasray.costs.timing import TimingProtocol, time_networks
from tasray.models.search import SearchSpace
from tasray.spec.arch import ArchSpec


@dataclass(frozen=True)
class Candidate:
    label: str
    multiple: int
    spec: ArchSpec


def candidates(full: ArchSpec, multiples: list[int], samples: int, target: float) -> list[Candidate]:
    """Fixed-ratio and sampled search-space networks of `full` at each width multiple."""
    found = []
    for multiple in multiples:
        found.append(
            Candidate("fixed ratio", multiple, fixed_ratio_spec(full, target, FlopsCost(), multiple))
        )
        space = SearchSpace(width_multiple=multiple)
        seed = random.Random(multiple).randrange(2**31)
        for index, spec in enumerate(sample_specs(full, space, FlopsCost(), samples, target, 0.05, seed)):
            found.append(Candidate(f"search space #{index}", multiple, spec))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["cifar_resnet56", "cifar_resnet110"])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--target", type=float, default=0.5)
    parser.add_argument("--multiples", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument(
        "--multiple", type=int, default=DEFAULT_WIDTH_MULTIPLE, help="the one the last line judges"
    )
    parser.add_argument("--samples", type=int, default=2, help="search-space architectures per multiple")
    parser.add_argument("--arch", nargs="*", default=[], help="searched ArchSpec JSON files")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="cpu: thread CPU time, 1 thread (shared machines)",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--channels-last", action="store_true", help="every network in NHWC")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    multiples = sorted(set(args.multiples) | {args.multiple})
    searched = [ArchSpec.load(path) for path in args.arch]
    print(
        f"device {device}, {args.threads} threads, {args.clock} clock, batch {args.batch}, "
        f"{'NHWC' if args.channels_last else 'NCHW'}, "
        f"R = {args.target}, {args.rounds} rounds"
    )
    print(f"{'model':<16} {'network':<18} {'mult':>4} {'FLOPs':>6} {'ms':>9} {'time':>6} {'Q':>5}  widths")
    worst = 0.0
    for model in args.models:
        full = ArchSpec.full(model, 10, 3, (32, 32))
        rows = candidates(full, multiples, args.samples, args.target)
        rows += [Candidate("searched", 0, spec) for spec in searched if spec.model == model]
        specs = [full] + [c.spec for c in rows]
        threads = args.threads if args.clock == "wall" else None
        protocol = TimingProtocol(str(device), args.clock, threads, rounds=args.rounds)
        timings = time_networks(specs, args.batch, protocol, channels_last=args.channels_last)
        seconds = [timing.best for timing in timings]
        print(f"{model:<16} {'unpruned':<18} {'':>4} {1:>6.3f} {seconds[0] * 1e3:>9.1f} {1:>6.2f} {1:>5.2f}")
        for row, time_ in zip(rows, seconds[1:], strict=True):
            flops, ratio = flop_ratio(row.spec), time_ / seconds[0]
            q = ratio / flops
            if row.multiple == args.multiple or row.label == "searched":
                worst = max(worst, q)
            widths = " ".join(str(w) for w in sorted(set(row.spec.widths)))
            print(
                f"{model:<16} {row.label:<18} {row.multiple or '':>4} {flops:>6.3f} {time_ * 1e3:>9.1f} "
                f"{ratio:>6.2f} {q:>5.2f}  {widths}"
            )
    print(f"worst latency/FLOP ratio: {worst:.2f}")


if __name__ == "__main__":
    main()
