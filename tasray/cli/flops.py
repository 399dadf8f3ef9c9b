"""`tasray flops MODEL|ARCH.json`: FLOPs (MACs) and parameters of a model or a pruned ArchSpec.

With `--latency`, also the forward latency on this machine's device at batch 1 and at `--batch`,
and its ratio to the unpruned network's timed in the same interleaved rounds, with the protocol of
the latency tables and rows (`tasray.costs.timing`): warm-up excluded, one thread timed by its CPU
time on a CPU (`--clock wall` for a quiet machine), CUDA events on a GPU; the fastest run, with
the median and interquartile range beside it, and a warning when that range is too wide to trust.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from tasray.cli import output_console
from tasray.costs.flops import count_flops, count_params, flop_ratio
from tasray.costs.timing import MAX_SPREAD, TimingProtocol, time_networks
from tasray.engine.runner import default_device
from tasray.errors import TasrayError
from tasray.models.resnet import default_input_size
from tasray.plural import plural
from tasray.preflight.checkpoint import first_line
from tasray.spec.arch import ArchSpec


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("flops", help="FLOPs and parameters of a model or an ArchSpec JSON")
    parser.add_argument("target", help="a model name, e.g. cifar_resnet56, or an ArchSpec .json")
    parser.add_argument(
        "--input-size",
        type=int,
        nargs="+",
        metavar="N",
        help="image size: one number (square) or height width",
    )
    parser.add_argument("--in-channels", type=int, default=None)
    parser.add_argument("--num-classes", type=int, default=None)
    parser.add_argument("--latency", action="store_true", help="also measure forward latency on this device")
    parser.add_argument("--batch", type=int, default=64, help="batch size of the second latency")
    parser.add_argument("--rounds", type=int, default=50, help="timed latency rounds (default 50)")
    parser.add_argument(
        "--clock", default="cpu", help="on a CPU: cpu (CPU time of one thread; shared machines) or wall"
    )
    parser.set_defaults(func=run)


def resolve_spec(args: argparse.Namespace) -> ArchSpec:
    for flag, value in (("--in-channels", args.in_channels), ("--num-classes", args.num_classes)):
        if value is not None and value < 1:
            raise TasrayError(f"{flag} {value}: must be a positive integer")
    if args.target.endswith(".json"):
        spec = load_arch_file(Path(args.target))
    else:
        size = default_input_size(args.target)
        spec = ArchSpec.full(args.target, 1000 if size == (224, 224) else 10, 3, size)
    if args.input_size is not None:
        if len(args.input_size) not in (1, 2) or min(args.input_size) < 1:
            raise TasrayError(f"--input-size takes one or two positive integers; got {args.input_size}")
        size = tuple(args.input_size * 2)[:2] if len(args.input_size) == 1 else tuple(args.input_size)
        spec = spec.with_input(spec.in_channels, size, spec.num_classes)
    return spec.with_input(
        spec.in_channels if args.in_channels is None else args.in_channels,
        spec.input_size,
        spec.num_classes if args.num_classes is None else args.num_classes,
    )


def load_arch_file(path: Path) -> ArchSpec:
    """An ArchSpec JSON file; anything else (binary, wrong keys or values) is a one-line error."""
    if not path.is_file():
        raise TasrayError(f"no such ArchSpec file: {path}")
    try:
        return ArchSpec.from_json(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, OSError) as err:
        raise TasrayError(f"{path}: not an ArchSpec JSON text file ({type(err).__name__})") from None
    except TasrayError as err:
        raise TasrayError(f"{path}: {err}") from None


def run(args: argparse.Namespace) -> int:
    if args.batch < 1 or args.rounds < 1:
        raise TasrayError(f"--batch and --rounds must be >= 1; got {args.batch} and {args.rounds}")
    if args.clock not in ("cpu", "wall"):
        raise TasrayError(f"--clock {args.clock}: allowed cpu, wall")
    spec = resolve_spec(args)
    macs = count_flops(spec)
    table = Table(
        title=f"{spec.model} at {spec.in_channels}×{spec.input_size[0]}×{spec.input_size[1]}, "
        f"{plural(spec.num_classes, 'class', 'classes')}"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("FLOPs (MACs, paper convention)", f"{macs / 1e6:,.2f} M")
    table.add_row("FLOPs (2×MACs)", f"{2 * macs / 1e6:,.2f} M")
    table.add_row("parameters", f"{count_params(spec) / 1e6:,.3f} M")
    table.add_row("FLOP ratio vs unpruned", f"{flop_ratio(spec):.1%}")
    table.add_row("depths", " ".join(map(str, spec.depths)))
    warnings = add_latency_rows(table, spec, args.batch, args.rounds, args.clock) if args.latency else []
    console = output_console()
    console.print(table)
    for warning in warnings:
        console.print(f"[yellow]⚠ {warning}[/yellow]")
    return 0


def add_latency_rows(table: Table, spec: ArchSpec, batch: int, rounds: int, clock: str) -> list[str]:
    """Latency at batch 1 and `batch` and its ratio to the unpruned network; returns a warning for
    each measurement whose spread is too wide to trust."""
    protocol = TimingProtocol(default_device().type, clock, rounds=rounds)  # type: ignore[arg-type]
    full = spec.unpruned()
    specs = [spec] if spec == full else [spec, full]
    warnings = []
    for size in dict.fromkeys((1, batch)):
        try:
            timings = time_networks(specs, size, protocol)
        except RuntimeError as err:  # e.g. an input of --batch × --input-size that does not fit memory
            raise TasrayError(
                f"--latency: cannot run {spec.model} at batch {size}, {spec.in_channels}×"
                f"{spec.input_size[0]}×{spec.input_size[1]} on {protocol.device} ({first_line(err)}); "
                "use a smaller --batch or --input-size"
            ) from None
        where = f"batch {size}, {protocol.device}, {protocol.timer}"
        table.add_row(f"latency, {where}", timings[0].describe())
        table.add_row(f"latency ratio vs unpruned, batch {size}", f"{timings[0].best / timings[-1].best:.1%}")
        warnings += [
            f"batch {size}: the interquartile range is {t.spread:.0%} of the median (over {MAX_SPREAD:.0%}): "
            "the machine was busy; the figures are the fastest runs, re-run on a quiet machine to confirm"
            for t in timings
            if not t.trusted
        ][:1]
    return warnings
