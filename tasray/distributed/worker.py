"""Inside a Ray Train worker group: rank 0 leads a flow of jobs, the other ranks follow it.

A flow is a picklable callable that takes a `Runner`: one job (the teacher), or a whole trial
(its method's jobs, then the retraining), so that a trial starts one worker group, not one per
stage. Rank 0 runs the flow with a `LeaderRunner`: a job whose final state is saved beside the run
is answered from it; any other is handed to every rank, built on each rank's device and trained
with one report per epoch. Rank 0 attaches the stage's state to each report as a checkpoint file
named after the job, so a restarted group answers the finished stages from their final states and
resumes the current one at its last epoch.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import ray.train
import ray.train.torch
import torch
import torch.distributed as dist

from tasray.engine.runner import Job, Runner
from tasray.io import storage
from tasray.stages.base import Stage, load_state, save_state
from tasray.stages.runtime import rank_and_world
from tasray.stages.search import SearchResult
from tasray.stages.train import TrainResult


class Flow(Protocol):
    """What one worker group runs: jobs asked of a runner, e.g. a trial's method and retraining."""

    @property
    def worker_env(self) -> dict[str, str]:
        """Environment variables of the group's processes."""
        ...

    def __call__(self, runner: Runner) -> Any: ...


class WorkerHook:
    """Code that runs in every Ray Train worker around each epoch's report (tests install these)."""

    def metrics(self, epoch: int, stage: Stage) -> dict[str, Any]:
        """Extra values for this epoch's report (called on every rank, in step)."""
        return {}

    def reported(self, epoch: int, stage: Stage) -> None:
        """Called once this epoch's report and checkpoint are handed to Ray."""


def state_file(job: Job) -> str:
    """The checkpoint's file for the stage of `job`."""
    return f"{job.name}.pt"


def final_path(run_folder: str, job: Job) -> str:
    """Where the state a finished job left is kept, beside its Ray Train run."""
    return storage.join(run_folder, f"tasray_final-{job.name}.pt")


class StageRunner:
    """Trains one job's stage on this rank, reporting each epoch; the first stage it runs resumes
    from the checkpoint Ray restored the group with, if that holds the stage's state."""

    def __init__(self, hooks: Sequence[WorkerHook]) -> None:
        self.hooks = hooks
        self.device = ray.train.torch.get_device()
        self.rank = ray.train.get_context().get_world_rank()
        self.restored = ray.train.get_checkpoint()

    def run(self, job: Job) -> Stage:
        stage = job.build(self.device)
        state = self._restored_state(job)
        if state is not None:
            stage.load_state_dict(state)
        start_epoch = stage.epoch

        def report(epoch: int, metrics: dict[str, float], stage: Stage) -> None:
            payload = {**metrics, "stage": job.name, "epochs": stage.epochs, "start_epoch": start_epoch}
            for hook in self.hooks:
                payload.update(hook.metrics(epoch, stage))
            with tempfile.TemporaryDirectory() as folder:
                saved = None
                if self.rank == 0:
                    save_state(stage.state_dict(), Path(folder) / state_file(job))
                    saved = ray.train.Checkpoint.from_directory(folder)
                ray.train.report(payload, checkpoint=saved)
            for hook in self.hooks:
                hook.reported(epoch, stage)

        return stage.fit(on_epoch=report, progress=False)

    def _restored_state(self, job: Job) -> dict[str, Any] | None:
        # Finished jobs are answered from their final states before any stage runs, so the first
        # stage run after a restart is the one the checkpoint was saved in, if any.
        checkpoint, self.restored = self.restored, None
        if checkpoint is None:
            return None
        with checkpoint.as_directory() as folder:
            path = Path(folder) / state_file(job)
            return load_state(path) if path.is_file() else None


class LeaderRunner:
    """Rank 0's runner: a finished job comes from its final state; any other runs on every rank."""

    def __init__(self, stages: StageRunner, run_folder: str) -> None:
        self.stages, self.run_folder = stages, run_folder

    def run(self, job: Job) -> TrainResult | SearchResult:
        path = final_path(self.run_folder, job)
        state = storage.load_object(path)
        if state is None:
            hand_over(job, self.stages.device)
            state = self.stages.run(job).state_dict()
            storage.save_object(path, state)
        return job.result_from_state(state)


def hand_over(job: Job | None, device: torch.device) -> Job | None:
    """Rank 0's `job` on every rank (None: the flow is over)."""
    if rank_and_world()[1] == 1:
        return job
    box = [job]
    dist.broadcast_object_list(box, src=0, device=device)
    return box[0]


def train_loop_per_worker(config: dict[str, Any]) -> Any:
    """Rank 0 runs the flow and returns its value; the other ranks train the stages it hands over."""
    stages = StageRunner(config["hooks"])
    if stages.rank == 0:
        value = config["flow"](LeaderRunner(stages, config["run_folder"]))
        hand_over(None, stages.device)
        return value
    while (job := hand_over(None, stages.device)) is not None:
        stages.run(job)
    return None
