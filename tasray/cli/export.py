"""`tasray export TRIAL_DIR --format torchscript|onnx|state_dict --out PATH`: a trained pruned network."""

from __future__ import annotations

import argparse
from pathlib import Path

from tasray.engine.pipeline import TRIALS
from tasray.errors import TasrayError
from tasray.io.export import ARCH, FORMATS, export, load_pruned

SUFFIXES = {"torchscript": ".ts", "onnx": ".onnx", "state_dict": "-export"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="export a trial's pruned network (TorchScript, ONNX or state_dict + arch.json)"
    )
    parser.add_argument(
        "trial", help="a trial: <storage>/<experiment>/<trial_id> (model.pt, arch.json in _trials/)"
    )
    parser.add_argument("--format", default="torchscript", help=f"one of: {', '.join(FORMATS)}")
    parser.add_argument(
        "--out",
        help="output file (a new folder for state_dict) in an existing folder; default beside the "
        "trial. An existing --out is replaced only if it is an earlier export of the same format",
    )
    parser.set_defaults(func=run)


def trial_folder(trial: Path) -> Path:
    """The folder with a trial's network: `<experiment>/_trials/<trial>`, or the path itself (a
    folder of an older store, or any saved network)."""
    if (trial / ARCH).is_file():
        return trial
    return trial.parent / TRIALS / trial.name


def run(args: argparse.Namespace) -> int:
    if args.format not in FORMATS:
        raise TasrayError(f"--format {args.format!r}; allowed: {', '.join(FORMATS)}")
    folder = trial_folder(Path(args.trial))
    out = Path(args.out) if args.out else folder.with_name(folder.name + SUFFIXES[args.format])
    model = load_pruned(folder)
    written = export(model, args.format, out)
    print(f"wrote {written} ({model.spec.model}, {sum(p.numel() for p in model.parameters()):,} parameters)")
    return 0
