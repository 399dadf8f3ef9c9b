"""Where jobs run. `LocalRunner` runs them in this process; `tasray.distributed` runs them on Ray
Train. Both resume a job from its last per-epoch checkpoint."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import torch

from tasray.engine.jobs import SearchJob, TrainJob
from tasray.stages.base import Stage, load_state, save_state
from tasray.stages.search import SearchResult
from tasray.stages.train import TrainResult

Job = TrainJob | SearchJob


class Runner(Protocol):
    """Runs a job to completion: a TrainJob gives a TrainResult, a SearchJob a SearchResult."""

    def run(self, job: Job) -> TrainResult | SearchResult: ...


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class LocalRunner:
    """Runs each job in this process; with `checkpoint_dir`, saves every epoch and resumes from it."""

    def __init__(
        self,
        device: torch.device | None = None,
        checkpoint_dir: str | Path | None = None,
        progress: bool | None = None,
    ) -> None:
        self.device = device or default_device()
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.progress = progress

    def run(self, job: Job) -> TrainResult | SearchResult:
        stage = job.build(self.device)
        path = self.checkpoint_dir / f"{job.name}.pt" if self.checkpoint_dir else None
        if path is not None and path.is_file():
            stage.load_state_dict(load_state(path))

        def checkpoint(epoch: int, metrics: dict, stage: Stage) -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            save_state(stage.state_dict(), tmp)
            os.replace(tmp, path)

        stage.fit(on_epoch=checkpoint if path is not None else None, progress=self.progress)
        return stage.result()
