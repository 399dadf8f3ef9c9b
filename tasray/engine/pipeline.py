"""One experiment, as plain function calls: the teacher, then trials (method → ArchSpec → retrain),
each trial ending as one results row. The local runner and the Ray layer both use these.
"""

from __future__ import annotations

import posixpath
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import torch

from tasray import __version__
from tasray.config import MEASURED_COSTS, Experiment, dataset_geometry, setup_key, teacher_key, trial_key
from tasray.costs import Cost, CostSetup, create_cost
from tasray.costs.latency import TABLE_OPTION
from tasray.data.card import data_card
from tasray.engine.jobs import TrainJob, dataset
from tasray.engine.latency import experiment_table, latency_columns
from tasray.engine.runner import Runner, default_device
from tasray.engine.search_cache import CachedSearches, KeyLock, SearchCache
from tasray.engine.settings import train_settings
from tasray.errors import TasrayError
from tasray.io import storage
from tasray.io.export import ARCH, DATA, WEIGHTS
from tasray.io.keyed_cache import KeyedCache
from tasray.methods.context import MethodContext, MethodResult
from tasray.methods.registry import METHODS, Method
from tasray.models.factory import build_network
from tasray.models.resnet import PrunedResNet
from tasray.preflight.checkpoint import read_state_dict
from tasray.results.schema import HISTORY_KEYS, TrialRecord
from tasray.spec.arch import ArchSpec
from tasray.stages.metrics import evaluate
from tasray.stages.transfer import L1Norm, select_channels

TEACHERS = "_teachers"
TRIALS = "_trials"  # beside the rows; readers of the store skip names starting with "_"


def full_spec(exp: Experiment) -> ArchSpec:
    """The unpruned network of the experiment, at its data set's geometry."""
    in_channels, size, classes = dataset_geometry(exp.data)
    return ArchSpec.full(exp.model.name, classes, in_channels, size)


@dataclass
class Teacher:
    spec: ArchSpec
    model: PrunedResNet
    top1: float
    top5: float
    seconds: float
    losses: tuple[float, ...] = ()  # training loss per epoch (a checkpoint's: its test loss)

    def state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu() for k, v in self.model.state_dict().items()}


def teacher_job(exp: Experiment) -> TrainJob:
    return TrainJob("teacher", full_spec(exp), train_settings(exp, exp.teacher), exp.data, exp.seed)


def trial_cost(exp: Experiment) -> Cost:
    """The cost the experiment's targets are ratios of (`search.cost`); a measured cost gets the
    latency table (measured first if it is missing)."""
    options = {TABLE_OPTION: experiment_table(exp)} if exp.search.cost in MEASURED_COSTS else {}
    return create_cost(exp.search.cost, CostSetup(full_spec(exp), exp.storage_path, options))


class TeacherCache(KeyedCache[Teacher]):
    """Trained teachers under `<storage>/_teachers/<teacher_key>/`, shared by every trial and run."""

    what, folder, file_name, redo = "teacher", TEACHERS, "teacher.pt", "train the teacher again"

    def encode(self, teacher: Teacher) -> dict[str, Any]:
        return {
            "spec": teacher.spec.to_dict(),
            "state": teacher.state(),
            "top1": teacher.top1,
            "top5": teacher.top5,
            "seconds": teacher.seconds,
            "losses": list(teacher.losses),
        }

    def decode(self, blob: dict[str, Any]) -> Teacher:
        model = build_network(ArchSpec.from_dict(blob["spec"]))
        model.load_state_dict(blob["state"])
        losses = tuple(blob.get("losses", ()))  # teachers cached before losses were kept have none
        return Teacher(model.spec, model.eval(), blob["top1"], blob["top5"], blob["seconds"], losses)


def trial_model_dir(exp: Experiment, trial_id: str) -> str:
    """Where a trial's retrained network is saved (`model.pt`, `arch.json`, `data.json`, for `tasray export`):
    `<storage>/<experiment>/_trials/<trial_id>`, out of the way of readers of the rows."""
    return storage.join(exp.storage_path, exp.name, TRIALS, trial_id)


def load_teacher_checkpoint(exp: Experiment, device: torch.device | None = None) -> Teacher:
    """The user's unpruned state_dict (`teacher.checkpoint`), scored on the test split on `device`
    (default: a GPU where there is one)."""
    device = device or default_device()
    spec = full_spec(exp)
    model = build_network(spec)
    what = f"teacher.checkpoint ({spec.model})"
    model.load_state_dict(read_state_dict(exp.teacher.checkpoint, model, what))
    model.eval().to(device)
    scores = evaluate(model, dataset(exp.data, "test", exp.seed), exp.data.eval_batch_size, device)
    return Teacher(spec, model.cpu(), scores["top1"], scores["top5"], 0.0, (scores["loss"],))


def get_teacher(
    exp: Experiment,
    runner: Runner,
    load_checkpoint: Callable[[Experiment], Teacher] = load_teacher_checkpoint,
) -> Teacher:
    """The experiment's teacher: from the cache, the user's checkpoint (scored by `load_checkpoint`:
    here, or on a cluster's worker), or trained by `runner` now (and cached)."""
    cache, key = TeacherCache(exp.storage_path), teacher_key(exp)
    cached = cache.load(key)
    if cached is not None:
        return cached
    if exp.teacher.checkpoint is not None:
        teacher = load_checkpoint(exp)
    else:
        result = runner.run(teacher_job(exp))
        losses = tuple(epoch["loss"] for epoch in result.history)
        teacher = Teacher(result.spec, result.model, result.top1, result.top5, result.seconds, losses)
    cache.save(key, teacher)
    return teacher


@dataclass(frozen=True)
class TrialPlan:
    """One trial: a method on an experiment (with the sweep's values applied for TAS)."""

    trial_id: str
    method: str
    experiment: Experiment
    baseline_index: int | None = None  # position in experiment.baselines

    @property
    def method_entry(self) -> Method:
        return METHODS.get(self.method)

    @property
    def baseline(self) -> Any:
        return None if self.baseline_index is None else self.experiment.baselines[self.baseline_index]

    @property
    def target_ratio(self) -> float | None:
        """The trial's R: the search's, or the baseline's (None for a fixed-ratio keep_ratio)."""
        return self.experiment.search.target_ratio if self.baseline is None else self.baseline.target_ratio

    @property
    def transfer(self) -> str:
        return self.baseline.transfer if self.baseline is not None else self.experiment.retrain.transfer


def baseline_plans(exp: Experiment) -> list[TrialPlan]:
    """One trial per configured baseline; ids are stable so a resumed run recognises them."""
    return [TrialPlan(f"{b.method}-{i}-{b.transfer}", b.method, exp, i) for i, b in enumerate(exp.baselines)]


def retrain_job(plan: TrialPlan, spec: ArchSpec, teacher: Teacher, kept: list[list[int]] | None) -> TrainJob:
    exp = plan.experiment
    settings = train_settings(exp, exp.retrain, transfer=plan.transfer)
    needs_teacher = plan.transfer != "scratch"
    if kept is None and plan.transfer == "init":
        kept = select_channels(teacher.model, spec, L1Norm())
    return TrainJob(
        "retrain",
        spec,
        settings,
        exp.data,
        exp.seed,
        teacher_state=teacher.state() if needs_teacher else None,
        teacher_spec=teacher.spec if needs_teacher else None,
        kept_channels=kept,
    )


def find_architecture(plan: TrialPlan, teacher: Teacher, runner: Runner, cost: Cost) -> MethodResult:
    """Run the trial's pruning method: an ArchSpec (and the teacher filters it keeps)."""
    context = MethodContext(
        experiment=plan.experiment,
        full_spec=teacher.spec,
        teacher=teacher.model,
        teacher_top1=teacher.top1,
        runner=runner,
        cost=cost,
        baseline=plan.baseline,
    )
    return plan.method_entry.run(context)


def retrain_and_record(
    plan: TrialPlan, found: MethodResult, teacher: Teacher, runner: Runner, cost: Cost, started: datetime
) -> TrialRecord:
    """Retrain the found architecture with the trial's transfer and describe it as one results row."""
    exp = plan.experiment
    trained = runner.run(retrain_job(plan, found.spec, teacher, found.kept_channels))
    folder = trial_model_dir(exp, plan.trial_id)
    storage.save_object(posixpath.join(folder, WEIGHTS), trained.model.state_dict())
    storage.write_bytes(posixpath.join(folder, ARCH), (found.spec.to_json() + "\n").encode())
    save_data_card(exp, folder)
    is_tas = plan.method_entry.searches
    target = plan.target_ratio
    return TrialRecord.from_arch(
        found.spec,
        cost=cost,
        experiment_id=exp.name,
        trial_id=plan.trial_id,
        method=plan.method,
        transfer=plan.transfer,
        data_set=exp.data.data_set,
        seed=exp.seed,
        top1=trained.top1,
        top5=trained.top5,
        teacher_top1=teacher.top1,
        target_ratio=target,
        lambda_cost=exp.search.lambda_cost if is_tas else None,
        num_selected=exp.search.num_selected if is_tas else None,
        tolerance=exp.search.tolerance if target is not None else None,
        search_seconds=found.search_seconds,
        train_seconds=trained.seconds,
        search_history=[_history_row(h) for h in found.history] if is_tas else [],
        selected_epoch=found.selected_epoch,
        started_at=started,
        finished_at=datetime.now(timezone.utc),
        host=socket.gethostname(),
        tasray_version=__version__,
        config_hash=trial_key(exp, plan.method, plan.baseline_index),
        **latency_columns(exp, found.spec),
        setup_hash=setup_key(exp, plan.method, plan.baseline_index),
    )


def save_data_card(exp: Experiment, folder: str) -> None:
    """`data.json` beside a trial's network: what `tasray export` embeds. Left out where this
    process cannot read the data (a trial driver on a node without it); export then looks the
    data set up from the experiment's `_config.yaml`."""
    try:
        card = data_card(exp.data.name, exp.data.root, exp.data.image_size)
    except TasrayError:
        return
    storage.write_bytes(posixpath.join(folder, DATA), (card.to_json() + "\n").encode())


def run_trial(plan: TrialPlan, teacher: Teacher, runner: Runner, lock: KeyLock | None = None) -> TrialRecord:
    """Method → ArchSpec → retraining with the trial's transfer → one results row.

    A TAS search comes from the search cache when an earlier trial ran the same one; `lock`, shared
    by trials that run at the same time, lets only one of them run it.
    """
    started = datetime.now(timezone.utc)
    runner = CachedSearches(runner, SearchCache(plan.experiment.storage_path), lock)
    cost = trial_cost(plan.experiment)
    found = find_architecture(plan, teacher, runner, cost)
    return retrain_and_record(plan, found, teacher, runner, cost, started)


def _history_row(entry: dict[str, float]) -> dict[str, float]:
    return {k: entry[k] for k in HISTORY_KEYS}
