"""The TAS search stage (paper Algorithm 1).

Each iteration takes a weights step on a D_train batch (SGD, cosine learning rate, cross-entropy)
and an architecture step on a D_val batch (Adam, cross-entropy + λ_cost·L_cost of Eq. 8). The
Gumbel-softmax temperature τ decays once per epoch. Each step freezes the parameter group it does
not update, so no gradient is computed only to be thrown away. Under torch.distributed every rank
samples the same architecture (same sampler seed) and gradients are averaged by hand: the sampled
network changes every step, which DistributedDataParallel's fixed buckets do not expect.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from tasray.arch import ArchSpec
from tasray.data import LoaderOptions, make_loader, set_loader_epoch
from tasray.models.search import SearchableResNet, SearchSpace
from tasray.stages.base import Stage
from tasray.stages.metrics import batch_totals
from tasray.stages.optim import frozen, sgd_cosine
from tasray.stages.runtime import (
    all_reduce_sum,
    average_gradients,
    broadcast_state,
    scaled_lr,
    seed_everything,
)
from tasray.tas.cost import cost_loss, count_flops
from tasray.tas.selection import choose_epoch, in_band


class SearchSettings(Protocol):
    """The fields of `tasray.config.SearchConfig` the stage reads."""

    variant: str
    epochs: int
    target_ratio: float
    lambda_cost: float
    num_selected: int
    tolerance: float
    tau_max: float
    tau_min: float
    tau_schedule: str
    width_ratios: list[float]
    min_depth: int
    width_multiple: int
    weight_lr: float
    weight_momentum: float
    weight_decay: float
    arch_lr: float
    arch_weight_decay: float
    arch_travel: float


def architecture_lr(settings: SearchSettings, steps_per_epoch: int) -> float:
    """Adam's learning rate for α and β: at least `arch_travel` spread over the architecture steps.

    Adam moves a parameter by about its learning rate per step when the gradient's sign holds, so
    `arch_travel / steps` lets a short search move the logits as far as a long one: the paper's
    1e-3 over ~60k steps, or a few hundred steps of a quick search.
    """
    return max(settings.arch_lr, settings.arch_travel / (settings.epochs * steps_per_epoch))


def temperature(settings: SearchSettings, epoch: int) -> float:
    """τ for `epoch`: from tau_max at the first epoch to tau_min at the last (linear in the paper)."""
    progress = epoch / max(1, settings.epochs - 1)
    hi, lo = settings.tau_max, settings.tau_min
    if settings.tau_schedule == "linear":
        return hi - (hi - lo) * progress
    if settings.tau_schedule == "cosine":
        return lo + (hi - lo) * (1 + math.cos(math.pi * progress)) / 2
    return hi * (lo / hi) ** progress  # exponential


@dataclass
class SearchResult:
    """The chosen architecture (see `tasray.tas.selection`) and the search's per-epoch record."""

    spec: ArchSpec
    history: list[dict[str, float]]
    seconds: float
    selected_epoch: int
    in_band: bool


def search_result(
    settings: SearchSettings, history: list[dict[str, float]], archs: list[dict], seconds: float
) -> SearchResult:
    """The best-validation in-band epoch's architecture (else the closest to R), as the authors do."""
    choice = choose_epoch(history, settings.target_ratio, settings.tolerance)
    spec = ArchSpec.from_dict(archs[choice.epoch])
    return SearchResult(spec, history, seconds, choice.epoch, choice.in_band)


class SearchStage(Stage):
    """Search the widths and depths of `full_spec.model` on D_train / D_val."""

    name = "search"

    def __init__(
        self,
        full_spec: ArchSpec,
        settings: SearchSettings,
        train_set: Dataset,
        val_set: Dataset,
        batch_size: int,
        device: torch.device,
        seed: int = 0,
        loader: LoaderOptions | None = None,
    ) -> None:
        super().__init__(settings.epochs)
        self.settings, self.device = settings, device
        space = SearchSpace(
            tuple(settings.width_ratios),
            settings.min_depth,
            settings.num_selected,
            settings.variant,
            settings.width_multiple,
        )
        seed_everything(seed)
        self.network = SearchableResNet(full_spec, space).to(device)
        broadcast_state(self.network)
        self.network.sampler = torch.Generator(device=device).manual_seed(seed)
        self.full_flops = count_flops(full_spec)
        self.train_loader = make_loader(train_set, batch_size, shuffle=True, seed=seed, options=loader)
        self.val_loader = make_loader(val_set, batch_size, shuffle=True, seed=seed + 1, options=loader)
        self.weight_optimizer, self.scheduler = sgd_cosine(
            self.network.weight_parameters(),
            scaled_lr(settings.weight_lr),
            settings.weight_momentum,
            settings.weight_decay,
            settings.epochs * len(self.train_loader),
        )
        self.arch_optimizer = torch.optim.Adam(  # betas (0.5, 0.999) as in the authors' code
            self.network.arch_parameters(),
            lr=architecture_lr(settings, len(self.train_loader)),
            betas=(0.5, 0.999),
            weight_decay=settings.arch_weight_decay,
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
            derived_ratio = count_flops(derived) / self.full_flops
            if in_band(derived_ratio, self.settings.target_ratio, self.settings.tolerance):
                self.last_in_band = derived
            cost = cost_loss(
                out.expected_flops / self.full_flops,
                derived_ratio,
                self.settings.target_ratio,
                self.settings.tolerance,
            )
            loss = F.cross_entropy(out.logits, targets) + self.settings.lambda_cost * cost
            self.arch_optimizer.zero_grad(set_to_none=True)
            loss.backward()
        average_gradients(self.network.arch_parameters())
        self.arch_optimizer.step()
        return batch_totals(loss, out.logits, targets)

    def run_epoch(self, epoch: int) -> dict[str, float]:
        start = time.perf_counter()
        self.network.train()
        self.network.tau = temperature(self.settings, epoch)
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
        flops = count_flops(derived)
        seconds = time.perf_counter() - start
        self.seconds += seconds
        return {
            "epoch": epoch,
            "tau": self.network.tau,
            "loss": float(train_loss) / max(steps, 1),
            "flops": float(flops),
            "flop_ratio": flops / self.full_flops,
            "expected_flops": float(self.network.expected_flops().detach()),
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
        ratio = count_flops(derived) / self.full_flops
        if in_band(ratio, self.settings.target_ratio, self.settings.tolerance) or self.last_in_band is None:
            return derived
        return self.last_in_band

    def result(self) -> SearchResult:
        return search_result(self.settings, self.history, self.archs, self.seconds)
