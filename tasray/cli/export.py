"""`tasray export TRIAL_DIR [--format pt2|onnx|torchscript|state_dict] [--out PATH] [--check]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tasray.config import CONFIG_FILE, load_experiment
from tasray.data.card import DataCard, data_card
from tasray.engine.pipeline import TRIALS
from tasray.errors import TasrayError
from tasray.io.export import ARCH, DATA, FORMATS, export, load_card, load_pruned
from tasray.io.export_check import ATOL, BATCH, LOADERS, ROUNDS, RTOL, WARMUP, check_export, describe_times

SUFFIXES = {"pt2": ".pt2", "onnx": ".onnx", "torchscript": ".ts", "state_dict": "-export"}
EXIT_CHECK_FAILED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="export a trial's pruned network (ExportedProgram .pt2, ONNX, TorchScript, state_dict)"
    )
    parser.add_argument(
        "trial", help="a trial: <storage>/<experiment>/<trial_id> (model.pt, arch.json in _trials/)"
    )
    parser.add_argument(
        "--format",
        default=FORMATS[0],
        help=f"one of: {', '.join(FORMATS)} (default: {FORMATS[0]}, a torch.export ExportedProgram)",
    )
    parser.add_argument(
        "--out",
        help="output file (a new folder for state_dict) in an existing folder; default beside the "
        "trial. An existing --out is replaced only if it is an earlier export of the same format",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"load the export back, compare its logits with PyTorch's on a batch of {BATCH} "
        f"(within {ATOL:g} + {RTOL:g} × the largest |logit|) and time both; a mismatch exits with "
        "status 1",
    )
    parser.set_defaults(func=run)


def trial_folder(trial: Path) -> Path:
    """The folder with a trial's network: `<experiment>/_trials/<trial>`, or the path itself (a
    folder of an older store, or any saved network)."""
    if (trial / ARCH).is_file():
        return trial
    return trial.parent / TRIALS / trial.name


def trial_card(folder: Path) -> DataCard:
    """The data card saved beside the network, or for runs before it existed, the card of the
    data set the experiment's resolved config (`<experiment>/_config.yaml`) names.

    Raises:
        TasrayError: neither is there, or the data set cannot be read; one line saying which.
    """
    card = load_card(folder)
    if card is not None:
        return card
    config = folder.parent.parent / CONFIG_FILE
    if not config.is_file():
        raise TasrayError(
            f"{folder} has no {DATA} (the data set's normalisation and class names), and there is no "
            f"{config} to look the data set up in; export needs one of them"
        )
    data = load_experiment(config).data
    try:
        return data_card(data.name, data.root, data.image_size)
    except TasrayError as err:
        raise TasrayError(
            f"{folder} has no {DATA}, and the data set {data.name} that {config} names cannot be read "
            f"for its normalisation and class names: {err}"
        ) from None


def run(args: argparse.Namespace) -> int:
    if args.format not in FORMATS:
        raise TasrayError(f"--format {args.format!r}; allowed: {', '.join(FORMATS)}")
    folder = trial_folder(Path(args.trial))
    out = Path(args.out) if args.out else folder.with_name(folder.name + SUFFIXES[args.format])
    model = load_pruned(folder)
    written = export(model, trial_card(folder), args.format, out)
    print(f"wrote {written} ({model.spec.model}, {sum(p.numel() for p in model.parameters()):,} parameters)")
    if not args.check:
        return 0
    result = check_export(model, written, args.format)
    loader = LOADERS[args.format]
    compared = (
        f"logits within {result.max_difference:.1e} of PyTorch's (allowed {result.tolerance:.1e}: "
        f"{ATOL:g} + {RTOL:g} × the largest |logit|)"
    )
    if not result.matches:
        print(f"tasray: check failed: {written} loaded with {loader}: {compared}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    print(f"check: loaded with {loader}; {compared}")
    print(
        f"check: latency, batch {BATCH} on the CPU: {args.format} {describe_times(result.export_times)}, "
        f"PyTorch {describe_times(result.reference_times)} ({ROUNDS} interleaved rounds after {WARMUP})"
    )
    return 0
