"""The `tasray` command. Each subcommand is one module in this package with a `register` function."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import NoReturn

from rich.console import Console

from tasray import __version__
from tasray.errors import RunFailed, TasrayError


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line, as every other bad input's (`--help` has the usage)."""

    def error(self, message: str) -> NoReturn:
        line = " ".join(message.split())
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {line} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="tasray", description="Network pruning via Transformable Architecture Search, on Ray."
    )
    parser.add_argument("--version", action="version", version=f"tasray {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{module.name}").register(subparsers)
    return parser


def add_overrides_argument(parser: argparse.ArgumentParser) -> None:
    """The repeatable `--set key.path=value` option of commands that read an experiment file."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a value, e.g. search.epochs=3",
    )


def output_console() -> Console:
    """stdout for tables: the terminal's width, or 120 columns when piped (rich would use 80)."""
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120)


EXIT_BAD_INPUT = 2
EXIT_RUN_FAILED = 1
EXIT_INTERRUPTED = 130
"""128 + SIGINT, what a shell reports for a command stopped by Ctrl-C."""


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand: bad input is one line and status 2, a run that failed for an outside
    cause (`RunFailed`) one line and status 1, Ctrl-C one line and status 130."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except TasrayError as err:
        print(f"tasray: error: {' '.join(str(err).splitlines())}", file=sys.stderr)
        return EXIT_RUN_FAILED if isinstance(err, RunFailed) else EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("tasray: interrupted; re-running the same command resumes", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
