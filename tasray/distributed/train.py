"""`RayRunner`: run a stage job as a Ray Train `TorchTrainer`, checkpointing every epoch.

Every worker builds the stage from the job on its own device (DDP when there are several), restores
the last checkpoint if Ray hands one over, and reports once per epoch; rank 0 attaches the stage's
full state as the checkpoint. `WorkerHook`s (installed by tests: fault injection, weight digests)
run in the workers around each report. A run is named from a stable prefix and the job name, so running the
same job again resumes it in place, and a finished run is answered from its saved final state.

Ray Train's controller takes a worker's report from its one-slot queue once per poll, and polls
every `RAY_TRAIN_HEALTH_CHECK_INTERVAL_S` (2 s by default): that held every epoch to at least 2 s.
Ray Train has no other setting for it, so `fit` sets the variable in its own process (Ray Train
passes it on to the controller it starts, and to the workers); a value set by the user wins.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ray.train
from ray.train import Checkpoint, CheckpointConfig, FailureConfig, RunConfig, ScalingConfig, UserCallback
from ray.train.torch import TorchConfig, TorchTrainer

from tasray.config import ResourcesConfig
from tasray.engine.runner import Job
from tasray.io import storage
from tasray.stages.base import Stage, load_state, save_state
from tasray.stages.search import SearchResult
from tasray.stages.train import TrainResult

RAY_DIR = "_ray"
STATE_FILE = "state.pt"
FINAL_FILE = "tasray_final.pt"
POLL_INTERVAL = ("RAY_TRAIN_HEALTH_CHECK_INTERVAL_S", "0.2")  # seconds between the controller's polls


def ray_storage(storage_path: str, experiment: str) -> str:
    """Where the Ray Train and Tune runs of an experiment live: `<storage>/_ray/<experiment>`."""
    root = storage_path if "://" in storage_path else os.path.abspath(os.path.expanduser(storage_path))
    return posixpath.join(root, RAY_DIR, experiment)


class WorkerHook:
    """Code that runs in every Ray Train worker around each epoch's report (tests install these)."""

    def metrics(self, epoch: int, stage: Stage) -> dict[str, Any]:
        """Extra values for this epoch's report (called on every rank, in step)."""
        return {}

    def reported(self, epoch: int, stage: Stage) -> None:
        """Called once this epoch's report and checkpoint are handed to Ray."""


def train_loop_per_worker(config: dict[str, Any]) -> None:
    """Build the job's stage here, resume from Ray's checkpoint if any, report every epoch."""
    job: Job = config["job"]
    hooks: Sequence[WorkerHook] = config["hooks"]
    rank = ray.train.get_context().get_world_rank()
    stage = job.build(ray.train.torch.get_device())
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            stage.load_state_dict(load_state(Path(folder) / STATE_FILE))
    start_epoch = stage.epoch

    def report(epoch: int, metrics: dict[str, float], stage: Stage) -> None:
        payload = {**metrics, "stage": job.name, "epochs": stage.epochs, "start_epoch": start_epoch}
        for hook in hooks:
            payload.update(hook.metrics(epoch, stage))
        with tempfile.TemporaryDirectory() as folder:
            saved = None
            if rank == 0:
                save_state(stage.state_dict(), Path(folder) / STATE_FILE)
                saved = Checkpoint.from_directory(folder)
            ray.train.report(payload, checkpoint=saved)
        for hook in hooks:
            hook.reported(epoch, stage)

    stage.fit(on_epoch=report, progress=False)


class CallerInterruptedTrainer(TorchTrainer):
    """A TorchTrainer whose `fit()` leaves Ctrl-C to its caller.

    On the main thread, Ray Train's `fit()` installs a SIGINT handler that aborts the run and exits
    the process with status 0. Without it Ctrl-C raises KeyboardInterrupt out of `fit()`, like any
    blocking Ray call, so `tasray run` prints one line, shuts Ray down and exits with 130; a re-run
    resumes from the last checkpoint.
    """

    def _register_sigint_handler(self, controller) -> None:  # Ray Train's hook (train/v2)
        return None


class RayRunner:
    """Runs each job as a TorchTrainer named `<prefix>-<job name>` under `<storage>/_ray/<experiment>`.

    Args:
        resources: workers per stage, GPUs, CPUs per worker and restarts on failure.
        storage_path: the experiment's storage path (local folder or URI reachable by every node).
        experiment: the experiment name (a folder under `<storage>/_ray`).
        prefix: what makes run names unique and stable, e.g. the trial id.
        callbacks: Ray Train callbacks, e.g. one that forwards epoch reports to a progress view.
        verbose: keep Ray Train's own INFO logs.
        worker_hooks: run in the workers around each report (tests: faults, weight digests).
    """

    def __init__(
        self,
        resources: ResourcesConfig,
        storage_path: str,
        experiment: str,
        prefix: str,
        callbacks: list[UserCallback] | None = None,
        verbose: bool = False,
        worker_hooks: Sequence[WorkerHook] = (),
    ) -> None:
        self.resources, self.prefix, self.verbose = resources, prefix, verbose
        self.storage = ray_storage(storage_path, experiment)
        self.callbacks = callbacks or []
        self.worker_hooks = list(worker_hooks)

    def run_name(self, job: Job) -> str:
        return f"{self.prefix}-{job.name}"

    def run(self, job: Job) -> TrainResult | SearchResult:
        """The job's result: from its finished run if there is one, else trained (or resumed) now."""
        state = self.load_final(job)
        if state is None:
            result = self.fit(job)
            with result.checkpoint.as_directory() as folder:
                state = load_state(Path(folder) / STATE_FILE)
            self.save_final(job, state)
        return job.result_from_state(state)

    def fit(self, job: Job) -> ray.train.Result:
        """Train (or resume) the job on Ray Train and return Ray's result."""
        os.environ.setdefault(*POLL_INTERVAL)
        r = self.resources
        env = {key: os.environ.get(key, value) for key, value in job.worker_env.items()}  # user's wins
        per_worker = {"CPU": r.cpus_per_worker, **({"GPU": r.gpus_per_worker} if r.use_gpu else {})}
        trainer = CallerInterruptedTrainer(
            train_loop_per_worker,
            train_loop_config={"job": job, "hooks": self.worker_hooks},
            torch_config=TorchConfig(backend="nccl" if r.use_gpu else "gloo"),
            scaling_config=ScalingConfig(
                num_workers=r.num_workers, use_gpu=r.use_gpu, resources_per_worker=per_worker
            ),
            run_config=RunConfig(
                name=self.run_name(job),
                storage_path=self.storage,
                failure_config=FailureConfig(max_failures=r.max_failures),
                checkpoint_config=CheckpointConfig(num_to_keep=1),
                callbacks=self.callbacks,
                logging_config=ray.train.LoggingConfig(log_level="INFO" if self.verbose else "WARNING"),
                worker_runtime_env={"env_vars": env} if env else None,
            ),
        )
        return trainer.fit()

    def _final_path(self, job: Job) -> str:
        return storage.join(self.storage, self.run_name(job), FINAL_FILE)

    def load_final(self, job: Job) -> dict[str, Any] | None:
        """The state a finished run of this job left, or None."""
        return storage.load_object(self._final_path(job))

    def save_final(self, job: Job, state: dict[str, Any]) -> None:
        """Keep the finished state beside the run (temp file + rename), so reruns skip Ray Train."""
        storage.save_object(self._final_path(job), state)
