"""`tasray export TRIAL_DIR --format torchscript|onnx|state_dict --out PATH`: a trained pruned network."""

from __future__ import annotations

import argparse
from pathlib import Path

from tasray.errors import TasrayError
from tasray.export import FORMATS, export, load_pruned

SUFFIXES = {"torchscript": ".ts", "onnx": ".onnx", "state_dict": "-export"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="export a trial's pruned network (TorchScript, ONNX or state_dict + arch.json)"
    )
    parser.add_argument(
        "trial", help="a trial folder: <storage>/<experiment>/<trial_id> (model.pt, arch.json)"
    )
    parser.add_argument("--format", default="torchscript", help=f"one of: {', '.join(FORMATS)}")
    parser.add_argument(
        "--out",
        help="output file (a new folder for state_dict) in an existing folder; default beside the "
        "trial. An existing --out is replaced only if it is an earlier export of the same format",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.format not in FORMATS:
        raise TasrayError(f"--format {args.format!r}; allowed: {', '.join(FORMATS)}")
    trial = Path(args.trial)
    out = Path(args.out) if args.out else trial.with_name(trial.name + SUFFIXES[args.format])
    model = load_pruned(trial)
    written = export(model, args.format, out)
    print(f"wrote {written} ({model.spec.model}, {sum(p.numel() for p in model.parameters()):,} parameters)")
    return 0
