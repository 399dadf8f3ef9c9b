"""`tasray validate FILE [--set key.path=value ...]`: check an experiment without running it.

`dry_run` is the check itself; `tasray run --dry-run` reuses it and `print_summary`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from tasray.cli import add_overrides_argument
from tasray.config import Experiment, dataset_geometry, load_experiment
from tasray.config.geometry import Geometry
from tasray.costs import COSTS
from tasray.costs.flops import count_flops
from tasray.engine.health import search_steps
from tasray.engine.settings import search_settings
from tasray.methods import METHODS
from tasray.models import create_model
from tasray.plural import plural
from tasray.preflight import check_inputs
from tasray.spec.arch import ArchSpec


@dataclass(frozen=True)
class DryRunSummary:
    """What an experiment would do, found without data loading or training.

    Args:
        name: the experiment name.
        data: the data set name.
        geometry: (in_channels, (H, W), num_classes) of the data set.
        model: the unpruned model name.
        flops: FLOPs (multiply-accumulates) of the unpruned model at that geometry.
        params: parameters of the unpruned model.
        search: one line on the TAS search (variant, R, λ_cost, |I|, epochs).
        arch_steps: one line on the search's architecture steps and Adam's learning rate for them.
        retrain: one line on retraining (transfer, epochs).
        sweep_algorithm: ``hyperopt``, ``random`` or ``grid``.
        space: dotted path → range, the swept hyper-parameters.
        tas_trials: TAS trials of the sweep.
        baselines: one line per baseline trial.
    """

    name: str
    data: str
    geometry: Geometry
    model: str
    flops: int
    params: int
    search: str
    arch_steps: str
    retrain: str
    sweep_algorithm: str
    space: dict[str, str]
    tas_trials: int
    baselines: tuple[str, ...]

    @property
    def total_trials(self) -> int:
        return self.tas_trials + len(self.baselines)


def describe_baseline(exp: Experiment, index: int) -> str:
    """One line on what a baseline trial does, in its method's words."""
    baseline = exp.baselines[index]
    method = METHODS.get(baseline.method)
    how = f" ({method.describe(baseline)})" if method.describe else ""
    return f"{baseline.method}{how}, retrain {baseline.transfer}"


def describe_sampler(exp: Experiment) -> str:
    """The sweep's sampler as `tasray.distributed.space.make_sampler` builds it."""
    sweep = exp.sweep
    if sweep.algorithm != "hyperopt" or not sweep.space:
        return sweep.algorithm
    if "search.target_ratio" in sweep.space:
        cost = "each trial's cost" if "search.cost" in sweep.space else COSTS.get(exp.search.cost).label
        return f"Optuna multi-objective TPE (top-1 ↑, {cost} ratio ↓)"
    return "hyperopt TPE (top-1 ↑)"


def describe_arch_steps(exp: Experiment) -> str:
    """Architecture steps of one search: one per D_train batch (D_train is half the training set)."""
    steps = search_steps(exp)
    if steps is None:
        return "unknown until the data set is present"
    search = exp.search
    about = "about " if exp.data.name == "imagenet" else ""  # its image count is estimated
    return (
        f"{about}{steps:,} ({plural(search.epochs, 'epoch')} × "
        f"{plural(steps // search.epochs, 'batch', 'batches')}), "
        f"Adam lr {search_settings(search).arch.rate(steps):.3g}"
    )


def dry_run(exp: Experiment, check_data: bool = True) -> DryRunSummary:
    """Check that `exp` can run: data present, model buildable for the data; summarise it.

    Args:
        exp: a validated experiment.
        check_data: also require the data files and the teacher checkpoint to exist. An npz
            file is read for its geometry either way.

    Raises:
        ConfigError: a missing data set or checkpoint, or an unreadable npz file.
    """
    if check_data:
        check_inputs(exp)
    in_channels, size, num_classes = geometry = dataset_geometry(exp.data)
    model = create_model(exp.model.name, num_classes, in_channels, size)
    spec = ArchSpec.full(exp.model.name, num_classes, in_channels, size)
    search = exp.search
    return DryRunSummary(
        name=exp.name,
        data=exp.data.name,
        geometry=geometry,
        model=exp.model.name,
        flops=count_flops(spec),
        params=sum(p.numel() for p in model.parameters()),
        search=(
            f"{search.variant}, R = {search.target_ratio:g} of {COSTS.get(search.cost).label}, "
            f"λ_cost = {search.lambda_cost:g}, "
            f"|I| = {search.num_selected}, {plural(search.epochs, 'epoch')}"
        ),
        arch_steps=describe_arch_steps(exp),
        retrain=f"{exp.retrain.transfer}, {plural(exp.retrain.epochs, 'epoch')}",
        sweep_algorithm=describe_sampler(exp),
        space={key: rng.describe() for key, rng in exp.sweep.space.items()},
        tas_trials=exp.sweep.num_tas_trials,
        baselines=tuple(describe_baseline(exp, i) for i in range(len(exp.baselines))),
    )


def print_summary(summary: DryRunSummary, console: Console | None = None) -> None:
    """The summary as a rich table."""
    in_channels, (height, width), num_classes = summary.geometry
    table = Table(title=f"experiment {summary.name}: valid", show_header=False)
    table.add_column("item", style="bold")
    table.add_column("value")
    classes = plural(num_classes, "class", "classes")
    table.add_row("data", f"{summary.data}: {in_channels}×{height}×{width}, {classes}")
    table.add_row("model", summary.model)
    table.add_row("unpruned FLOPs", f"{summary.flops / 1e6:,.2f} M (MACs)")
    table.add_row("unpruned params", f"{summary.params / 1e6:,.3f} M")
    table.add_row("search", summary.search)
    table.add_row("architecture steps", summary.arch_steps)
    table.add_row("retrain", summary.retrain)
    sweep = "; ".join(f"{key}: {rng}" for key, rng in summary.space.items()) or "none"
    table.add_row("sweep", f"{summary.sweep_algorithm}, {sweep}")
    table.add_row("TAS trials", str(summary.tas_trials))
    for line in summary.baselines:
        table.add_row("baseline trial", line)
    table.add_row("trials in all", str(summary.total_trials))
    (console or Console()).print(table)


def add_skip_data_check_argument(parser: argparse.ArgumentParser) -> None:
    """`--skip-data-check`, for commands that check an experiment without running it."""
    parser.add_argument(
        "--skip-data-check",
        action="store_true",
        help="do not require the data set and teacher checkpoint to exist",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="check an experiment file without running it")
    parser.add_argument("file", help="experiment YAML, e.g. experiments/quickstart.yaml")
    add_overrides_argument(parser)
    add_skip_data_check_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    exp = load_experiment(args.file, args.overrides)
    print_summary(dry_run(exp, check_data=not args.skip_data_check))
    return 0
