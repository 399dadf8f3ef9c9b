"""`tasray report PATH --out DIR`: a Markdown report with plots, paper numbers side by side."""

from __future__ import annotations

import argparse

from tasray.errors import TasrayError
from tasray.preflight.storage import check_writable_folder
from tasray.results.report import write_report


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="write a Markdown report with plots from a results store")
    parser.add_argument("path", help="results store: a folder, one run in it, or a URI")
    parser.add_argument("--out", required=True, help="folder to write report.md and its PNGs into")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_writable_folder(args.out, "--out")
    try:
        report = write_report(args.path, args.out)
    except OSError as err:  # e.g. the disk filled up while writing
        raise TasrayError(f"--out {args.out}: cannot write the report ({err.strerror or err})") from None
    print(f"wrote {report}")
    return 0
