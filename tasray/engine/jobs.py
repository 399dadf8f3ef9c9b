"""Jobs: picklable descriptions of one stage run, built into a stage wherever they execute.

A job carries configs, not tensors (except the teacher's weights), so it can travel to a Ray Train
worker, which loads the data itself and builds the stage on its own device. `result_from_state`
turns a stage checkpoint back into a result on the driver, without loading data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, Literal

import torch
from torch.utils.data import Dataset, Subset

from tasray.config import DataConfig, SearchConfig
from tasray.costs.base import Cost
from tasray.costs.flops import FlopsCost, count_flops, count_params, flop_ratio
from tasray.data import DataSplits, LoaderOptions, load_data, split_halves
from tasray.engine.settings import search_settings
from tasray.models.factory import build_network
from tasray.models.resnet import PrunedResNet
from tasray.spec.arch import ArchSpec
from tasray.stages.search import SearchResult, SearchSettings, SearchStage, search_result
from tasray.stages.speed import SpeedSettings
from tasray.stages.train import TrainResult, TrainSettings, TrainStage

Split = Literal["train", "test", "search_train", "search_val"]


def _splits(data: DataConfig) -> DataSplits:
    return _load(data.name, data.root, data.download, data.augment, data.image_size)


@lru_cache(maxsize=4)  # random search trains several candidates on the same data in one process
def _load(name: str, root: str | None, download: bool, augment: bool, image_size: int | None) -> DataSplits:
    return load_data(name, root, download=download, augment=augment, image_size=image_size)


def dataset(data: DataConfig, split: Split, seed: int) -> Dataset:
    """One split; `search_train`/`search_val` are the two halves of the training set (D_train, D_val)."""
    splits = _splits(data)
    if split in ("train", "test"):
        return getattr(splits, split)
    train_half, val_half = split_halves(len(splits.train), seed)
    if split == "search_train":
        return Subset(splits.train, train_half)
    return Subset(splits.train_eval, val_half)  # D_val is scored without augmentation


def loader_options(data: DataConfig, device: torch.device) -> LoaderOptions:
    """The loader settings of `data` on `device`: pinned host memory when batches go to a GPU."""
    return LoaderOptions(workers=data.loader_workers or 0, pin_memory=device.type == "cuda")


# oneDNN, behind PyTorch's CPU convolutions, keeps a compiled kernel for each conv shape it meets,
# up to 1024. The search meets new shapes nearly every step (the sampled widths change), so that
# cache only fills the heap: it took a ResNet-20 search to 2.4x the plain step's peak RSS. 64 keeps
# the RSS flat at little cost in speed. Training a fixed network keeps the default: a pruned net
# has many conv shapes, and reuses their kernels every step.
SEARCH_WORKER_ENV = {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "64"}


@dataclass(frozen=True)
class TrainJob:
    """Train the network of `spec`: the teacher, a retraining, or a random-search candidate."""

    worker_env: ClassVar[dict[str, str]] = {}  # environment of the processes that run the job

    name: str
    spec: ArchSpec
    settings: TrainSettings
    data: DataConfig
    seed: int
    train_split: Split = "train"
    eval_split: Split = "test"
    teacher_state: dict[str, Any] | None = None
    teacher_spec: ArchSpec | None = None
    kept_channels: list[list[int]] | None = None

    def teacher(self) -> PrunedResNet | None:
        if self.teacher_state is None:
            return None
        net = build_network(self.teacher_spec)
        net.load_state_dict(self.teacher_state)
        return net

    def build(self, device: torch.device) -> TrainStage:
        return TrainStage(
            self.spec,
            self.settings,
            dataset(self.data, self.train_split, self.seed),
            dataset(self.data, self.eval_split, self.seed),
            device,
            self.seed,
            teacher=self.teacher(),
            kept_channels=self.kept_channels,
            name=self.name,
            loader=loader_options(self.data, device),
        )

    def result_from_state(self, state: dict[str, Any]) -> TrainResult:
        model = build_network(self.spec)
        model.load_state_dict(state["model"])
        history = state["history"]
        last = history[-1]
        return TrainResult(
            spec=self.spec,
            model=model.eval(),
            top1=last["top1"],
            top5=last["top5"],
            flops=count_flops(self.spec),
            params=count_params(self.spec),
            flop_ratio=flop_ratio(self.spec),
            seconds=state["seconds"],
            images_per_s=last["images_per_s"],
            history=history,
        )


@dataclass(frozen=True)
class SearchJob:
    """Run the TAS search for `full_spec.model` on D_train / D_val, towards a target of `cost`."""

    worker_env: ClassVar[dict[str, str]] = SEARCH_WORKER_ENV

    full_spec: ArchSpec
    settings: SearchSettings
    cost: Cost
    data: DataConfig
    seed: int
    name: str = "search"

    @classmethod
    def of(
        cls,
        full_spec: ArchSpec,
        search: SearchConfig,
        data: DataConfig,
        seed: int,
        *,
        cost: Cost | None = None,
        variant: str | None = None,
    ) -> SearchJob:
        """The search a `search` section describes (of `variant`, default its own), towards a
        target of `cost` (default FLOPs)."""
        return cls(full_spec, search_settings(search, variant), cost or FlopsCost(), data, seed)

    def build(self, device: torch.device) -> SearchStage:
        # The sampled conv shapes change every step: autotuning each would only cost time. (A
        # training job earlier in this process may have switched it on.)
        SpeedSettings(cudnn_benchmark=False).configure(device)
        return SearchStage(
            self.full_spec,
            self.settings,
            self.cost,
            dataset(self.data, "search_train", self.seed),
            dataset(self.data, "search_val", self.seed),
            self.data.batch_size,
            device,
            self.seed,
            loader=loader_options(self.data, device),
        )

    def result_from_state(self, state: dict[str, Any]) -> SearchResult:
        return search_result(self.settings.target, state["history"], state["archs"], state["seconds"])
