"""`tasray latency-table MODEL --out lut.json`: measure a model's latency table on this machine's
device, or on a node of a Ray cluster that has it (`--address`).

Every distinct unit of the model's search space is timed with the fixed protocol of
`tasray.costs.timing`; the unpruned network is then timed whole and set beside the table's
prediction for it. An experiment uses the file with `latency.table: lut.json`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from tasray.cli import output_console
from tasray.cli.flops import resolve_spec
from tasray.costs.latency_table import LatencyTable, measure_table
from tasray.costs.timing import DTYPES, TimingProtocol, time_networks
from tasray.errors import TasrayError
from tasray.models.search import PAPER_WIDTH_RATIOS
from tasray.spec.arch import ArchSpec

NETWORK_ROUNDS = 100


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "latency-table", help="measure a model's latency lookup table (search.cost: latency)"
    )
    parser.add_argument("target", help="a model name, e.g. cifar_resnet56")
    parser.add_argument("--out", required=True, help="the table file to write (JSON)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--batch", type=int, default=1, help="images per forward pass (default 1)")
    parser.add_argument("--dtype", default="float32", help=f"{', '.join(DTYPES)} (default float32)")
    parser.add_argument(
        "--clock", default="cpu", help="on a CPU: cpu (CPU time of one thread; shared machines) or wall"
    )
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads with --clock wall")
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds per unit (default 30)")
    parser.add_argument(
        "--width-ratios",
        type=float,
        nargs="+",
        default=list(PAPER_WIDTH_RATIOS),
        metavar="R",
        help="the search space's search.width_ratios (default 0.3 … 1.0)",
    )
    parser.add_argument("--width-multiple", type=int, default=1, help="search.width_multiple (default 1)")
    parser.add_argument("--input-size", type=int, nargs="+", metavar="N", help="one number or height width")
    parser.add_argument("--in-channels", type=int, default=None)
    parser.add_argument("--num-classes", type=int, default=None)
    parser.add_argument(
        "--address", help="measure on a node of this Ray cluster that has the device (host:port, auto, local)"
    )
    parser.set_defaults(func=run)


def check_args(args: argparse.Namespace) -> TimingProtocol:
    """The protocol the flags ask for; a bad flag is one line."""
    if args.device not in ("cpu", "cuda"):
        raise TasrayError(f"--device {args.device}: allowed cpu, cuda")
    if args.dtype not in DTYPES:
        raise TasrayError(f"--dtype {args.dtype}: allowed {', '.join(DTYPES)}")
    if args.clock not in ("cpu", "wall"):
        raise TasrayError(f"--clock {args.clock}: allowed cpu, wall")
    for flag, value in (
        ("--batch", args.batch),
        ("--rounds", args.rounds),
        ("--width-multiple", args.width_multiple),
    ):
        if value < 1:
            raise TasrayError(f"{flag} {value}: must be a positive integer")
    if args.threads is not None and (args.threads < 1 or args.clock == "cpu"):
        raise TasrayError(f"--threads {args.threads}: needs --clock wall and a positive count")
    if not all(0 < r <= 1 for r in args.width_ratios):
        raise TasrayError(f"--width-ratios {args.width_ratios}: each must be in (0, 1]")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise TasrayError(f"--out {out}: no such folder {out.parent}")
    if out.exists() and not _is_table(out):
        raise TasrayError(f"--out {out}: exists and is not a latency table; refusing to replace it")
    return TimingProtocol(args.device, args.clock, args.threads, args.dtype, rounds=args.rounds)


def _is_table(path: Path) -> bool:
    try:
        LatencyTable.load(path)
    except TasrayError:
        return False
    return True


def measure(spec: ArchSpec, ratios: list[float], multiple: int, batch: int, protocol: TimingProtocol) -> dict:
    """The table, and the unpruned network timed whole, as plain data (what a Ray task returns)."""
    table = measure_table(spec, ratios, multiple, batch, protocol)
    network_protocol = TimingProtocol(
        protocol.device, protocol.clock, protocol.threads, protocol.dtype, rounds=NETWORK_ROUNDS
    )
    whole = time_networks([spec], batch, network_protocol)[0]
    return {"table": table.to_dict(), "measured": whole.best, "described": whole.describe()}


def run(args: argparse.Namespace) -> int:
    protocol = check_args(args)
    spec = resolve_spec(args)
    task = (spec, args.width_ratios, args.width_multiple, args.batch, protocol)
    if args.address is None:
        if args.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise TasrayError(
                    "--device cuda: this machine has no CUDA device; "
                    "use --address to measure on a node of a cluster that has one"
                )
        result = measure(*task)
    else:
        from tasray.distributed.cluster import ray_session
        from tasray.distributed.device_task import on_device
        from tasray.preflight import choose_cluster
        from tasray.preflight.cluster import check_reachable

        target = choose_cluster(args.address)
        check_reachable(target)
        with ray_session(target):
            result = on_device(measure, args.device, *task)
    table = LatencyTable.from_dict(result["table"])
    write_atomically(Path(args.out), table.to_json())
    predicted = table.network_seconds(spec)
    console = output_console()
    console.print(f"latency table: {table.describe()} → {args.out}")
    console.print(
        f"unpruned network: table {predicted * 1e3:.3g} ms, measured {result['described']}; "
        f"additivity error {predicted / result['measured'] - 1:+.1%}"
    )
    return 0


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temp, path)
