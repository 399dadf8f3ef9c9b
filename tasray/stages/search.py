"""The TAS search stage (paper Algorithm 1).

Each iteration takes a weights step on a D_train batch (SGD, cosine learning rate, cross-entropy)
and an architecture step on a D_val batch (Adam, cross-entropy + λ_cost·L_cost of Eq. 8). The
Gumbel-softmax temperature τ decays once per epoch. Each step freezes the parameter group it does
not update, so no gradient is computed only to be thrown away. Under torch.distributed every rank
samples the same architecture (same sampler seed) and gradients are averaged by hand: the sampled
network changes every step, which DistributedDataParallel's fixed buckets do not expect.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from tasray.costs.base import Cost
from tasray.costs.flops import count_flops, expected_flops, flop_ratio
from tasray.data import LoaderOptions, make_loader, set_loader_epoch
from tasray.models.factory import build_searchable
from tasray.models.search import SearchSpace
from tasray.spec.arch import ArchSpec
from tasray.stages.base import Stage
from tasray.stages.metrics import batch_totals
from tasray.stages.optim import SGDSettings, frozen, sgd_cosine
from tasray.stages.runtime import (
    all_reduce_sum,
    average_gradients,
    broadcast_state,
    seed_everything,
)
from tasray.tas.cost_loss import CostTarget
from tasray.tas.schedule import TauSchedule
from tasray.tas.selection import choose_epoch


@dataclass(frozen=True)
class ArchOptimSettings:
    """Adam on α and β (betas 0.5, 0.999 as in the authors' code).

    Args:
        lr: the paper's constant 1e-3.
        weight_decay: Adam's weight decay.
        travel: how far, in logit units, α and β may move over the whole search; the rate is
            max(lr, travel / architecture steps) (0: `lr` whatever the length).
    """

    lr: float = 1e-3
    weight_decay: float = 1e-3
    travel: float = 30.0

    def rate(self, steps: int) -> float:
        """Adam's learning rate for a search of `steps` architecture steps.

        Adam moves a parameter by about its learning rate per step when the gradient's sign holds,
        so `travel / steps` lets a short search move the logits as far as a long one: the paper's
        1e-3 over ~60k steps, or a few hundred steps of a quick search.
        """
        return max(self.lr, self.travel / max(1, steps))


@dataclass(frozen=True)
class SearchSettings:
    """What the search stage needs (built from the `search` section by `tasray.engine.settings`).

    Args:
        space: the candidate widths and depths, |I| and the variant.
        epochs: search epochs.
        target: R, the tolerance t and λ_cost, as ratios of the search's cost.
        tau: the Gumbel-softmax temperature schedule.
        weights: SGD on the network weights (cosine over the whole search).
        arch: Adam on the architecture parameters.
    """

    space: SearchSpace
    epochs: int
    target: CostTarget
    tau: TauSchedule = TauSchedule()
    weights: SGDSettings = SGDSettings()
    arch: ArchOptimSettings = ArchOptimSettings()


@dataclass
class SearchResult:
    """The chosen architecture (see `tasray.tas.selection`) and the search's per-epoch record."""

    spec: ArchSpec
    history: list[dict[str, float]]
    seconds: float
    selected_epoch: int
    in_band: bool


def search_result(
    target: CostTarget, history: list[dict[str, float]], archs: list[dict], seconds: float
) -> SearchResult:
    """The best-validation in-band epoch's architecture (else the closest to R), as the authors do."""
    choice = choose_epoch(history, target)
    spec = ArchSpec.from_dict(archs[choice.epoch])
    return SearchResult(spec, history, seconds, choice.epoch, choice.in_band)


class SearchStage(Stage):
    """Search the widths and depths of `full_spec.model` on D_train / D_val."""

    name = "search"

    def __init__(
        self,
        full_spec: ArchSpec,
        settings: SearchSettings,
        cost: Cost,
        train_set: Dataset,
        val_set: Dataset,
        batch_size: int,
        device: torch.device,
        seed: int = 0,
        loader: LoaderOptions | None = None,
    ) -> None:
        super().__init__(settings.epochs)
        self.settings, self.cost, self.device = settings, cost, device
        seed_everything(seed)
        self.network = build_searchable(full_spec, settings.space).to(device)
        broadcast_state(self.network)
        self.network.sampler = torch.Generator(device=device).manual_seed(seed)
        self.full_cost = cost.exact(full_spec)
        self.train_loader = make_loader(train_set, batch_size, shuffle=True, seed=seed, options=loader)
        self.val_loader = make_loader(val_set, batch_size, shuffle=True, seed=seed + 1, options=loader)
        steps = settings.epochs * len(self.train_loader)
        self.weight_optimizer, self.scheduler = sgd_cosine(
            self.network.weight_parameters(), settings.weights, steps
        )
        self.arch_optimizer = torch.optim.Adam(  # betas (0.5, 0.999) as in the authors' code
            self.network.arch_parameters(),
            lr=settings.arch.rate(steps),
            betas=(0.5, 0.999),
            weight_decay=settings.arch.weight_decay,
        )
        self.archs: list[dict] = []  # each epoch's architecture, for the final choice
        self.last_in_band: ArchSpec | None = None  # this epoch's latest in-band argmax
        self.stateful = {
            "network": self.network,
            "weight_optimizer": self.weight_optimizer,
            "scheduler": self.scheduler,
            "arch_optimizer": self.arch_optimizer,
        }

    def extra_state(self) -> dict[str, Any]:
        return {"sampler": self.network.sampler.get_state(), "archs": self.archs}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.network.sampler.set_state(state["sampler"])
        self.archs = list(state["archs"])

    def _val_batches(self, epoch: int) -> Iterator:
        """D_val batches for this epoch, starting over when D_val is shorter than D_train."""
        round_ = 0
        while True:
            set_loader_epoch(self.val_loader, epoch * 1000 + round_)
            yield from self.val_loader
            round_ += 1

    def _on_device(self, images: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch on the device; from pinned memory the copy overlaps the running step."""
        return images.to(self.device, non_blocking=True), targets.to(self.device, non_blocking=True)

    def weights_step(self, images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        with frozen(self.network.arch_parameters()):
            loss = F.cross_entropy(self.network(images).logits, targets)
            self.weight_optimizer.zero_grad(set_to_none=True)
            loss.backward()
        average_gradients(self.network.weight_parameters())
        self.weight_optimizer.step()
        self.scheduler.step()
        return loss.detach()

    def arch_step(self, images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        with frozen(self.network.weight_parameters()):
            out = self.network(images)
            derived = self.network.derive_arch()
            derived_ratio = self.cost.exact(derived) / self.full_cost
            if self.settings.target.holds(derived_ratio):
                self.last_in_band = derived
            expected = out.expected_cost(self.cost) / self.full_cost
            loss = F.cross_entropy(out.logits, targets) + self.settings.target.loss(expected, derived_ratio)
            self.arch_optimizer.zero_grad(set_to_none=True)
            loss.backward()
        average_gradients(self.network.arch_parameters())
        self.arch_optimizer.step()
        return batch_totals(loss, out.logits, targets)

    def run_epoch(self, epoch: int) -> dict[str, float]:
        start = time.perf_counter()
        self.network.train()
        self.network.tau = self.settings.tau.at(epoch, self.settings.epochs)
        set_loader_epoch(self.train_loader, epoch)
        self.last_in_band = None
        val_totals = torch.zeros(3, dtype=torch.float64, device=self.device)
        train_loss = torch.zeros((), device=self.device)
        steps = 0
        for (x, y), (xv, yv) in zip(self.train_loader, self._val_batches(epoch), strict=False):
            train_loss += self.weights_step(*self._on_device(x, y))
            val_totals += self.arch_step(*self._on_device(xv, yv))
            steps += 1
        broadcast_state(self.network)  # BatchNorm statistics differ per rank; keep rank 0's
        val_totals = all_reduce_sum(val_totals).cpu()
        derived = self.epoch_architecture()
        self.archs.append(derived.to_dict())
        distribution = self.network.distribution()
        seconds = time.perf_counter() - start
        self.seconds += seconds
        return {
            "epoch": epoch,
            "tau": self.network.tau,
            "loss": float(train_loss) / max(steps, 1),
            "flops": float(count_flops(derived)),
            "flop_ratio": flop_ratio(derived),
            "expected_flops": float(expected_flops(distribution).detach()),
            "cost_ratio": self.cost.exact(derived) / self.full_cost,
            "expected_cost_ratio": float(self.cost.expected(distribution).detach()) / self.full_cost,
            "discrepancy": self.network.discrepancy(),
            "val_top1": 100 * float(val_totals[1]) / max(float(val_totals[2]), 1.0),
            "seconds": seconds,
        }

    def epoch_architecture(self) -> ArchSpec:
        """The argmax at the epoch's end, or when that is out of band the epoch's latest in-band one.

        The cost loss steers the argmax around the band, so it is in band at some steps and not at
        others. The authors' 600-epoch search offers hundreds of epoch ends to choose from; a short
        search offers a handful, all of which may miss. Looking at every step's argmax within the
        epoch gives a short search the same chance of an in-band architecture.
        """
        derived = self.network.derive_arch()
        if self.settings.target.holds(self.cost.exact(derived) / self.full_cost) or self.last_in_band is None:
            return derived
        return self.last_in_band

    def result(self) -> SearchResult:
        return search_result(self.settings.target, self.history, self.archs, self.seconds)
