"""Random search (the NAS baseline of the paper's Table 1): sample N architectures from the TAS search
space whose cost ratio (`search.cost`) lies within (1 ± t)·R, short-train each on D_train, keep the
best on D_val. The space is the search's, widths rounded to `search.width_multiple` included.

All candidates train in one job (`CandidatesJob`, one Ray Train run), one candidate per "epoch"
of its stage, so a restarted run continues with the next untrained candidate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from pydantic import Field

from tasray.config import BaselineSection, DataConfig
from tasray.costs import Cost
from tasray.engine.jobs import TrainJob
from tasray.engine.settings import search_space
from tasray.errors import TasrayError
from tasray.methods.context import MethodContext, MethodResult
from tasray.methods.registry import Method, register_method
from tasray.models.search import SearchSpace
from tasray.plural import plural
from tasray.spec.arch import ArchSpec
from tasray.stages.base import Stage
from tasray.stages.train import TrainSettings
from tasray.tas.cost_loss import ratio_bounds

MAX_TRIES = 20_000


class RandomSearchConfig(BaselineSection):
    """'Random Search' (Table 1): sample architectures near R, short-train each, keep the best.

    Args:
        method: ``random_search``.
        num_candidates: architectures sampled and short-trained.
        train_epochs: epochs of short training per candidate.
    """

    method: Literal["random_search"] = "random_search"
    num_candidates: int = Field(10, ge=1)
    train_epochs: int = Field(1, ge=1)


def sample_spec(full: ArchSpec, space: SearchSpace, rng: random.Random) -> ArchSpec:
    """One architecture of the search space. A shared base level, jittered per conv, spreads the
    samples over all FLOP ratios (independent uniform choices would cluster around the middle)."""
    options = [space.width_candidates(w) for w in full.widths]
    level = rng.random()
    widths = []
    for choices in options:
        centre = round(level * (len(choices) - 1))
        index = min(len(choices) - 1, max(0, centre + rng.randint(-2, 2)))
        widths.append(choices[index])
    depths = [rng.choice(space.depth_candidates(d)) for d in full.depths]
    return ArchSpec(full.model, widths, depths, full.in_channels, full.input_size, full.num_classes)


def sample_specs(
    full: ArchSpec, space: SearchSpace, cost: Cost, count: int, target: float, tolerance: float, seed: int
) -> list[ArchSpec]:
    """`count` distinct architectures within the cost bounds, by bounded rejection sampling."""
    rng, low_high = random.Random(seed), ratio_bounds(target, tolerance)
    found: dict[ArchSpec, None] = {}
    for _ in range(MAX_TRIES):
        spec = sample_spec(full, space, rng)
        if low_high[0] <= cost.ratio(spec) <= low_high[1]:
            found[spec] = None
            if len(found) == count:
                return list(found)
    raise TasrayError(
        f"random_search found {len(found)} of {count} architectures with {cost.label} ratio in "
        f"[{low_high[0]:.3f}, {low_high[1]:.3f}] after {MAX_TRIES} samples; widen search.tolerance"
    )


@dataclass
class CandidatesResult:
    spec: ArchSpec  # the best candidate on D_val
    history: list[dict[str, float]]  # one entry per candidate: candidate, val_top1
    seconds: float


class CandidatesStage(Stage):
    """Each epoch trains one candidate on D_train and scores it on D_val."""

    name = "candidates"

    def __init__(
        self, specs: tuple[ArchSpec, ...], settings: TrainSettings, data: DataConfig, seed: int, device: Any
    ) -> None:
        super().__init__(len(specs))
        self.specs, self.settings, self.data, self.seed, self.device = specs, settings, data, seed, device

    def run_epoch(self, epoch: int) -> dict[str, float]:
        spec = self.specs[epoch]
        job = TrainJob(
            f"candidate-{epoch:03d}", spec, self.settings, self.data, self.seed, "search_train", "search_val"
        )
        trained = job.build(self.device).fit(progress=False).result()
        self.seconds += trained.seconds
        return {"epoch": epoch, "candidate": epoch, "val_top1": trained.top1}

    def result(self) -> CandidatesResult:
        return candidates_result(self.specs, self.history, self.seconds)


def candidates_result(specs: tuple[ArchSpec, ...], history: list[dict], seconds: float) -> CandidatesResult:
    best = max(history, key=lambda h: h["val_top1"])
    return CandidatesResult(specs[best["candidate"]], history, seconds)


@dataclass(frozen=True)
class CandidatesJob:
    """Train every candidate of a random search in one job."""

    worker_env: ClassVar[dict[str, str]] = {}

    specs: tuple[ArchSpec, ...]
    settings: TrainSettings
    data: DataConfig
    seed: int
    name: str = "candidates"

    def build(self, device: torch.device) -> CandidatesStage:
        return CandidatesStage(self.specs, self.settings, self.data, self.seed, device)

    def result_from_state(self, state: dict[str, Any]) -> CandidatesResult:
        return candidates_result(self.specs, state["history"], state["seconds"])


def random_search(context: MethodContext) -> MethodResult:
    exp, settings = context.experiment, context.baseline
    specs = sample_specs(
        context.full_spec,
        search_space(exp.search, variant="tas"),
        context.cost,
        settings.num_candidates,
        settings.target_ratio,
        exp.search.tolerance,
        exp.seed,
    )
    job = CandidatesJob(tuple(specs), context.train_settings(settings.train_epochs), exp.data, exp.seed)
    found = context.runner.run(job)
    return MethodResult(found.spec, None, found.seconds, found.history)


def describe(config: RandomSearchConfig) -> str:
    candidates = plural(config.num_candidates, "candidate")
    return f"R = {config.target_ratio:g}, {candidates} × {plural(config.train_epochs, 'epoch')}"


register_method(
    Method("random_search", random_search, "random search", config=RandomSearchConfig, describe=describe)
)
