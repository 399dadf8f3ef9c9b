"""What a Ray Train worker group runs: one job (the teacher), or a whole trial.

Flows are unpickled in every worker, so this module imports only the engine, not Ray Tune or the
sweep's samplers: a worker process then starts without loading them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tasray.engine.jobs import SearchJob
from tasray.engine.pipeline import Teacher, TrialPlan, run_trial
from tasray.engine.runner import Job, Runner
from tasray.engine.search_cache import KeyLock
from tasray.results.schema import TrialRecord
from tasray.stages.search import SearchResult
from tasray.stages.train import TrainResult


@dataclass(frozen=True)
class OneJob:
    """The flow of a run that trains a single job."""

    job: Job

    @property
    def worker_env(self) -> dict[str, str]:
        """The environment of the group's processes: the job's."""
        return self.job.worker_env

    def __call__(self, runner: Runner) -> TrainResult | SearchResult:
        return runner.run(self.job)


@dataclass(frozen=True)
class TrialFlow:
    """A trial from its method to its results row (`run_trial`)."""

    plan: TrialPlan
    teacher: Teacher
    lock: KeyLock | None = None

    @property
    def worker_env(self) -> dict[str, str]:
        """The search's environment in a TAS trial: the group's processes start once, and the
        search is what needs it (its retraining shares it)."""
        return SearchJob.worker_env if self.plan.method_entry.searches else {}

    def __call__(self, runner: Runner) -> TrialRecord:
        return run_trial(self.plan, self.teacher, runner, self.lock)
