"""Supervised training of a (pruned or unpruned) ResNet built from an ArchSpec.

One stage serves three purposes: the teacher (the full spec, from scratch), the retraining of a
pruned spec with transfer `scratch` | `init` | `kd`, and the short training of random-search
candidates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from tasray.costs.flops import count_flops, count_params, flop_ratio
from tasray.data import LoaderOptions, make_loader, set_loader_epoch
from tasray.models.factory import build_network
from tasray.models.resnet import PrunedResNet
from tasray.spec.arch import ArchSpec
from tasray.stages.base import Stage, unwrap
from tasray.stages.kd import KDLoss
from tasray.stages.metrics import batch_totals, evaluate
from tasray.stages.optim import SGDSettings, sgd_cosine
from tasray.stages.runtime import all_reduce_sum, distributed, seed_everything
from tasray.stages.speed import SpeedSettings
from tasray.stages.transfer import inherit_weights

Transfer = Literal["scratch", "init", "kd"]


@dataclass(frozen=True)
class TrainSettings:
    """Hyper-parameters of one training run (paper Sec. 4.1 defaults for CIFAR)."""

    epochs: int
    optim: SGDSettings = SGDSettings()
    batch_size: int = 256
    eval_batch_size: int = 512
    transfer: Transfer = "scratch"
    kd_weight: float = 0.9
    kd_temperature: float = 4.0
    speed: SpeedSettings = SpeedSettings()


@dataclass
class TrainResult:
    spec: ArchSpec
    model: PrunedResNet = field(repr=False)
    top1: float
    top5: float
    flops: int
    params: int
    flop_ratio: float
    seconds: float
    images_per_s: float
    history: list[dict[str, float]]


class TrainStage(Stage):
    """Train the network of `spec` on `train_set`, evaluating on `eval_set` after every epoch.

    `teacher` is needed for transfer `init` (weights, with `kept_channels` from a
    `FilterCriterion`; default the first channels) and `kd` (logits, Eq. 9–10). `loader` sets the
    DataLoader workers and pinning of both the training and the evaluation data. The learning rate
    is `settings.optim.lr` scaled to the global batch (`scaled_lr`).
    """

    name = "train"

    def __init__(
        self,
        spec: ArchSpec,
        settings: TrainSettings,
        train_set: Dataset,
        eval_set: Dataset,
        device: torch.device,
        seed: int = 0,
        teacher: PrunedResNet | None = None,
        kept_channels: list[list[int]] | None = None,
        name: str | None = None,
        loader: LoaderOptions | None = None,
    ) -> None:
        super().__init__(settings.epochs)
        if settings.transfer != "scratch" and teacher is None:
            raise ValueError(f"transfer {settings.transfer!r} needs the teacher network")
        self.name = name or f"train ({settings.transfer})"
        self.spec, self.settings, self.device, self.eval_set = spec, settings, device, eval_set
        self.speed, self.loader_options = settings.speed, loader or LoaderOptions()
        self.speed.configure(device)
        seed_everything(seed)
        model = build_network(spec)
        if settings.transfer == "init":
            inherit_weights(model, teacher, kept_channels)
        self.speed.model(model.to(device))
        self.model: nn.Module = model
        if distributed():
            ids = [device.index] if device.type == "cuda" else None
            self.model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        self.forward = self.speed.forward(self.model)  # what runs; `self.model` is what is saved
        self.loader = make_loader(
            train_set, settings.batch_size, shuffle=True, seed=seed, options=self.loader_options
        )
        self.optimizer, self.scheduler = sgd_cosine(
            self.model.parameters(), settings.optim, settings.epochs * len(self.loader)
        )
        self.kd = KDLoss(settings.kd_weight, settings.kd_temperature) if settings.transfer == "kd" else None
        self.teacher = None
        if self.kd is not None:
            self.teacher = self.speed.model(teacher.to(device)).eval().requires_grad_(False)
        self.stateful = {"model": self.model, "optimizer": self.optimizer, "scheduler": self.scheduler}

    def loss(self, images: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with self.speed.autocast(self.device):
            logits = self.forward(images).float()
            if self.kd is None:
                return F.cross_entropy(logits, targets), logits
            with torch.no_grad():
                teacher_logits = self.teacher(images).float()
        return self.kd(logits, teacher_logits, targets), logits

    def run_epoch(self, epoch: int) -> dict[str, float]:
        start = time.perf_counter()
        set_loader_epoch(self.loader, epoch)
        self.model.train()
        totals = torch.zeros(3, dtype=torch.float64, device=self.device)  # loss sum, correct, count
        for images, targets in self.loader:
            images = self.speed.input(images, self.device)
            targets = targets.to(self.device, non_blocking=True)
            loss, logits = self.loss(images, targets)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.scheduler.step()
            totals += batch_totals(loss, logits, targets)
        train_seconds = time.perf_counter() - start
        totals = all_reduce_sum(totals).cpu()
        self.model.eval()
        scores = evaluate(
            self.forward,
            self.eval_set,
            self.settings.eval_batch_size,
            self.device,
            options=self.loader_options,
            speed=self.speed,
        )
        seconds = time.perf_counter() - start
        self.seconds += seconds
        count = float(totals[2])
        return {
            "epoch": epoch,
            "loss": float(totals[0]) / count,
            "train_top1": 100 * float(totals[1]) / count,
            "top1": scores["top1"],
            "top5": scores["top5"],
            "eval_loss": scores["loss"],
            "images_per_s": count / max(train_seconds, 1e-9),
            "seconds": seconds,
        }

    def result(self) -> TrainResult:
        last = self.history[-1] if self.history else {}
        model = unwrap(self.model).cpu().eval()
        return TrainResult(
            spec=self.spec,
            model=model,
            top1=last.get("top1", float("nan")),
            top5=last.get("top5", float("nan")),
            flops=count_flops(self.spec),
            params=count_params(self.spec),
            flop_ratio=flop_ratio(self.spec),
            seconds=self.seconds,
            images_per_s=last.get("images_per_s", float("nan")),
            history=self.history,
        )
