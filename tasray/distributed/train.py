"""`RayRunner`: run a job, or a trial's whole flow of jobs, as one Ray Train `TorchTrainer`.

Every worker of the group builds each stage on its own device (DDP when there are several) and
reports once per epoch with the stage's state as the checkpoint (`tasray.distributed.worker`). A
run is named from a stable prefix (and the job's name, for a single job), so running it again
resumes it in place: finished stages are answered from their saved final states and the current
one restarts at its last epoch. Once the result is kept elsewhere (a results row, the teacher
cache), the run's folder is deleted (`discard`), so a finished stage's state is stored once.

Ray Train's controller takes a worker's report from its one-slot queue once per poll, and polls
every `RAY_TRAIN_HEALTH_CHECK_INTERVAL_S` (2 s by default): that held every epoch to at least 2 s.
Ray Train has no other setting for it, so `fit_flow` sets the variable in its own process (Ray
Train passes it on to the controller it starts, and to the workers); a value set by the user wins.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from typing import Any

import ray.train
from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig, UserCallback
from ray.train.torch import TorchConfig, TorchTrainer

from tasray.config import ResourcesConfig
from tasray.distributed.curves import StageEventFile
from tasray.distributed.flows import OneJob
from tasray.distributed.worker import Flow, WorkerHook, train_loop_per_worker
from tasray.engine.runner import Job
from tasray.io import storage
from tasray.stages.search import SearchResult
from tasray.stages.train import TrainResult

RAY_DIR = "_ray"
POLL_INTERVAL = ("RAY_TRAIN_HEALTH_CHECK_INTERVAL_S", "0.2")  # seconds between the controller's polls


def ray_storage(storage_path: str, experiment: str) -> str:
    """Where the Ray Train and Tune runs of an experiment live: `<storage>/_ray/<experiment>`."""
    root = storage_path if "://" in storage_path else os.path.abspath(os.path.expanduser(storage_path))
    return posixpath.join(root, RAY_DIR, experiment)


class StageTrainer(TorchTrainer):
    """Ray Train's TorchTrainer, less two things tasray's runs do not use.

    - Ray Train's Ctrl-C handler. On the main thread, `fit()` installs a SIGINT handler that aborts
      the run and exits the process with status 0. Without it Ctrl-C raises KeyboardInterrupt out
      of `fit()`, like any blocking Ray call, so `tasray run` prints one line, shuts Ray down and
      exits with 130; a re-run resumes from the last checkpoint.
    - The Ray Datasets callback. Stages load their own data, and the callback starts an idle
      `DatasetManager` actor per run even without datasets: a process that imports Ray Train (about
      2 s of CPU) and does nothing.

    Both are Ray Train's own hooks (train/v2). The callback is matched by its name: should a Ray
    release rename it, it is kept, which costs time and changes nothing else.
    """

    def _register_sigint_handler(self, controller) -> None:
        return None

    def _create_default_callbacks(self) -> list:
        callbacks = super()._create_default_callbacks()
        return [callback for callback in callbacks if type(callback).__name__ != "DatasetsCallback"]


class RayRunner:
    """Runs jobs and flows as TorchTrainers under `<storage>/_ray/<experiment>`; their per-epoch
    TensorBoard curves go to `<storage>/_ray/<experiment>/<prefix>-tensorboard`.

    Args:
        resources: workers per group, GPUs, CPUs per worker and restarts on failure.
        storage_path: the experiment's storage path (local folder or URI reachable by every node).
        experiment: the experiment name (a folder under `<storage>/_ray`).
        prefix: what makes run names unique and stable, e.g. the trial id and key.
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
        curves = storage.join(self.storage, f"{prefix}-tensorboard")  # a sibling: kept by `discard`
        self.callbacks = [*(callbacks or []), StageEventFile(curves)]
        self.worker_hooks = list(worker_hooks)

    def run_name(self, job: Job) -> str:
        return f"{self.prefix}-{job.name}"

    def run(self, job: Job) -> TrainResult | SearchResult:
        """The job trained (or resumed) in a run of its own, `<prefix>-<job name>`. Its caller keeps
        the result (the teacher cache), so the run's checkpoints are deleted once it returns."""
        result = self.fit(job).return_value
        self.discard(self.run_name(job))
        return result

    def fit(self, job: Job) -> ray.train.Result:
        """Train (or resume) the job in a run of its own and return Ray's result."""
        return self.fit_flow(OneJob(job), self.run_name(job))

    def run_flow(self, flow: Flow) -> Any:
        """Run (or resume) `flow` in one worker group, the run `<prefix>`; returns what it returns."""
        return self.fit_flow(flow, self.prefix).return_value

    def discard(self, name: str | None = None) -> None:
        """Delete the run `name` (default `<prefix>`, a flow's) with its checkpoints: its result is
        kept elsewhere now (a results row, a cache)."""
        storage.delete_folder(storage.join(self.storage, name or self.prefix))

    def fit_flow(self, flow: Flow, name: str) -> ray.train.Result:
        """Run (or resume) `flow` as the Ray Train run `name`, its workers in the flow's environment
        (`worker_env`; a variable set in this process wins), and return Ray's result."""
        os.environ.setdefault(*POLL_INTERVAL)
        r = self.resources
        env = {key: os.environ.get(key, value) for key, value in flow.worker_env.items()}
        per_worker = {"CPU": r.cpus_per_worker, **({"GPU": r.gpus_per_worker} if r.use_gpu else {})}
        config = {"flow": flow, "hooks": self.worker_hooks, "run_folder": storage.join(self.storage, name)}
        trainer = StageTrainer(
            train_loop_per_worker,
            train_loop_config=config,
            torch_config=TorchConfig(backend="nccl" if r.use_gpu else "gloo"),
            scaling_config=ScalingConfig(
                num_workers=r.num_workers, use_gpu=r.use_gpu, resources_per_worker=per_worker
            ),
            run_config=RunConfig(
                name=name,
                storage_path=self.storage,
                failure_config=FailureConfig(max_failures=r.max_failures),
                checkpoint_config=CheckpointConfig(num_to_keep=1),
                callbacks=self.callbacks,
                logging_config=ray.train.LoggingConfig(log_level="INFO" if self.verbose else "WARNING"),
                worker_runtime_env={"env_vars": env} if env else None,
            ),
        )
        return trainer.fit()
