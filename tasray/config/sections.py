"""Sections of an experiment file: data, model, teacher, search, retrain, baselines, resources.

Defaults are the paper's CIFAR settings (Sec. 4.1). Every section forbids unknown keys, so a typo
is an error instead of a silently ignored setting.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tasray.config.errors import field_error, unknown_key
from tasray.costs import COSTS
from tasray.spec.family import FAMILIES

Fraction = Annotated[float, Field(gt=0, le=1)]
"""A ratio in (0, 1], such as a FLOP target R or a kept-channel fraction."""
Momentum = Annotated[float, Field(ge=0, lt=1)]
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Transfer = Literal["scratch", "init", "kd"]
"""How a pruned net is trained: from random init, from the unpruned weights, or by distillation."""

DATA_SETS = ("digits", "cifar10", "cifar100", "imagenet", "npz")
DATA_ROOTS = {
    "cifar10": "the folder that holds cifar-10-batches-py/ (or will, with data.download: true)",
    "cifar100": "the folder that holds cifar-100-python/ (or will, with data.download: true)",
    "imagenet": "the folder that holds train/ and val/",
    "npz": "your .npz file",
}
"""What `data.root` is for each data set that needs one (digits ships with scikit-learn)."""


DEFAULT_WIDTH_MULTIPLE = 1
"""Channel granularity of pruned widths (see bench/latency.py for the measurements behind it)."""
IMAGE_FOLDER_LOADER_WORKERS = 8
LABEL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
"""An npz data set's label: it names leaderboards, report sections and figure files."""
"""Default loader workers for data decoded from files (ImageNet JPEGs); in-memory sets use 0."""


def root_fix(name: str) -> str:
    """How to point `data.root` at the data set `name`, for the end of an error line."""
    return f"set data.root (in the file, or --set data.root=PATH) to {DATA_ROOTS[name]}"


class Section(BaseModel):
    """Base of every config model: unknown keys are errors, and so are infinite or NaN floats."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        # pydantic's own error (extra="forbid") would not say which keys are allowed.
        unknown = [key for key in data if key not in cls.model_fields] if isinstance(data, dict) else []
        if unknown:
            raise unknown_key(unknown[0], cls)
        return data


class DataConfig(Section):
    """Which data set to train on and how to load it.

    Args:
        name: ``digits`` (embedded 8×8 digits, no download), ``cifar10``, ``cifar100``,
            ``imagenet`` (class folders under ``root/train`` and ``root/val``) or ``npz`` (one
            ``.npz`` file with ``x_train``, ``y_train``, ``x_test``, ``y_test``).
        root: directory for CIFAR/ImageNet, the ``.npz`` file for npz; required for all but
            digits.
        download: download CIFAR into ``root`` when it is missing.
        augment: the paper's training augmentation (random crop + flip).
        batch_size: training batch size of one worker; the global batch is
            ``resources.num_workers`` times larger, and every stage's learning rate is scaled
            with it (the configured rate is the rate for one worker's batch).
        eval_batch_size: batch size for evaluation, per worker.
        loader_workers: DataLoader worker processes per training worker (0 loads in the
            training process). Unset: 0 for the in-memory sets (digits, cifar10, cifar100, npz),
            8 for ImageNet folders.
        image_size: side of the square crops of ImageNet folders (training and evaluation);
            unset: 224, the paper's. The other data sets keep their images' own size.
        label: the name of an npz data set in results rows, leaderboards and reports (letters,
            digits, ``_ - .``); unset: the file's stem, e.g. ``cifar10-subset``.
    """

    name: Literal["digits", "cifar10", "cifar100", "imagenet", "npz"] = "digits"
    root: str | None = None
    download: bool = False
    augment: bool = True
    batch_size: int = Field(256, gt=0)
    eval_batch_size: int = Field(512, gt=0)
    loader_workers: int | None = Field(None, ge=0)
    image_size: int | None = Field(None, gt=0)
    label: str | None = None

    @property
    def data_set(self) -> str:
        """The data set's name in results: the npz label (default: the file's stem), else `name`."""
        if self.name != "npz":
            return self.name
        return self.label or PurePath(self.root or "").stem

    @model_validator(mode="after")
    def _default_loader_workers(self) -> DataConfig:
        if self.loader_workers is None:
            self.loader_workers = IMAGE_FOLDER_LOADER_WORKERS if self.name == "imagenet" else 0
        return self

    @model_validator(mode="after")
    def _root_when_needed(self) -> DataConfig:
        if self.name in DATA_ROOTS and not self.root:
            raise field_error("root", self.root, f"required for data {self.name!r}; {root_fix(self.name)}")
        return self

    @model_validator(mode="after")
    def _label_for_npz(self) -> DataConfig:
        if self.label is not None and self.name != "npz":
            raise field_error("label", self.label, "names npz data sets only; leave it unset")
        if self.label is not None and not LABEL_PATTERN.fullmatch(self.label):
            raise field_error("label", self.label, "use letters, digits, '_', '-' and '.'")
        return self

    @model_validator(mode="after")
    def _image_size_for_folders(self) -> DataConfig:
        if self.image_size is not None and self.name != "imagenet":
            raise field_error(
                "image_size", self.image_size, "applies to image folders (imagenet) only; leave it unset"
            )
        return self


class ModelConfig(Section):
    """The unpruned network.

    Args:
        name: a registered model, e.g. ``cifar_resnet56`` or ``resnet50`` (``tasray flops``
            lists them).
    """

    name: str

    @field_validator("name")
    @classmethod
    def _registered(cls, name: str) -> str:
        if name not in FAMILIES:
            raise ValueError(f"must be one of {', '.join(FAMILIES.names())}")
        return name


class TeacherConfig(Section):
    """Training of the unpruned network (the KD teacher and the 'init' weights).

    Args:
        checkpoint: a state_dict file of the unpruned net; when given, it is not trained.
        epochs: training epochs; 0 is only allowed with a checkpoint.
        lr: initial SGD learning rate (cosine schedule).
        momentum: SGD momentum.
        weight_decay: SGD weight decay.
    """

    checkpoint: str | None = None
    epochs: int = Field(300, ge=0)
    lr: PositiveFloat = 0.1
    momentum: Momentum = 0.9
    weight_decay: NonNegativeFloat = 5e-4

    @model_validator(mode="after")
    def _epochs_or_checkpoint(self) -> TeacherConfig:
        if self.epochs == 0 and not self.checkpoint:
            raise field_error("epochs", 0, "must be >= 1 unless teacher.checkpoint is given")
        return self


class SearchConfig(Section):
    """The TAS search stage (paper Sec. 3.1 and 4.1).

    Args:
        variant: ``tas`` searches width and depth, ``tas_w`` width only, ``tas_d`` depth only.
        cost: what R is a ratio of, for the search and every baseline: a registered cost
            (``flops``: multiply-accumulates, the paper's).
        epochs: search epochs (600 on CIFAR, 120 on ImageNet).
        target_ratio: R, cost of the pruned net / cost of the unpruned net.
        lambda_cost: weight of the cost loss (Eq. 7).
        num_selected: |I|, candidates sampled per layer (Eq. 4). 1 is rejected: the
            renormalised probability is then constantly 1 and α gets no gradient (Sec. 4.2).
        tolerance: t of the piecewise cost loss (Eq. 8).
        tau_max: Gumbel-softmax temperature at the first epoch (5 in the authors' scripts; the
            paper's text says 10).
        tau_min: temperature at the last epoch.
        tau_schedule: how τ moves from tau_max to tau_min (cosine in the authors' code; the
            paper's text says linear).
        width_ratios: candidate fractions of each conv's channels; sorted ascending.
        min_depth: smallest depth candidate per stage; candidates are min_depth..n (clipped to n).
        width_multiple: candidate widths are rounded to multiples of this many channels (a layer
            narrower than that keeps its width), so that pruned convs hit fast kernels; 1 keeps
            the paper's exact ratios. Random search samples the same rounded space.
        weight_lr: initial SGD learning rate of the network weights (cosine schedule).
        weight_momentum: SGD momentum of the weights.
        weight_decay: SGD weight decay of the weights.
        arch_lr: Adam learning rate of the architecture parameters (constant; the paper's 1e-3).
        arch_weight_decay: Adam weight decay of the architecture parameters.
        arch_travel: how far, in logit units, Adam may move α and β over the whole search: the
            learning rate is max(arch_lr, arch_travel / architecture steps), so a short search
            decides as a long one does (the paper's 1e-3 over its ~59k steps is ≈ 59). 0 keeps
            arch_lr whatever the length.
    """

    variant: Literal["tas", "tas_w", "tas_d"] = "tas"
    cost: str = "flops"
    epochs: int = Field(600, gt=0)
    target_ratio: Fraction = 0.5
    lambda_cost: NonNegativeFloat = 2.0
    num_selected: int = Field(2, ge=2)
    tolerance: float = Field(0.05, ge=0, lt=1)
    tau_max: PositiveFloat = 5.0
    tau_min: PositiveFloat = 0.1
    tau_schedule: Literal["linear", "cosine", "exponential"] = "cosine"
    width_ratios: list[Fraction] = Field(
        default_factory=lambda: [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], min_length=1
    )
    min_depth: int = Field(1, ge=1)
    width_multiple: int = Field(DEFAULT_WIDTH_MULTIPLE, ge=1)
    weight_lr: PositiveFloat = 0.1
    weight_momentum: Momentum = 0.9
    weight_decay: NonNegativeFloat = 5e-4
    arch_lr: PositiveFloat = 1e-3
    arch_weight_decay: NonNegativeFloat = 1e-3
    arch_travel: NonNegativeFloat = 30.0

    @field_validator("width_ratios")
    @classmethod
    def _distinct_sorted(cls, ratios: list[float]) -> list[float]:
        if len(set(ratios)) != len(ratios):
            raise ValueError("must not contain duplicates")
        return sorted(ratios)

    @field_validator("cost")
    @classmethod
    def _registered_cost(cls, name: str) -> str:
        if name not in COSTS:
            raise ValueError(f"must be one of {', '.join(COSTS.names())}")
        return name

    @model_validator(mode="after")
    def _tau_order(self) -> SearchConfig:
        if self.tau_min > self.tau_max:
            raise field_error("tau_min", self.tau_min, f"must be <= tau_max ({self.tau_max:g})")
        return self


class RetrainConfig(Section):
    """Training of the pruned network (paper Sec. 3.2 and 4.1).

    Args:
        epochs: training epochs (300 on CIFAR, 120 on ImageNet).
        transfer: ``scratch`` (random init), ``init`` (start from the unpruned weights) or
            ``kd`` (knowledge distillation from the unpruned net, Eq. 10).
        kd_weight: share w of the distillation term in (1 − w)·CE + w·T²·KL, the authors' α (0.9).
            The paper's Eq. 10 weighs the hard labels with λ instead: w = 1 − λ, so its ImageNet
            λ = 0.5 is w = 0.5.
        kd_temperature: T of Eq. 9.
        lr: initial SGD learning rate (cosine schedule).
        momentum: SGD momentum.
        weight_decay: SGD weight decay (5e-4 CIFAR, 1e-4 ImageNet).
    """

    epochs: int = Field(300, gt=0)
    transfer: Transfer = "kd"
    kd_weight: float = Field(0.9, ge=0, le=1)
    kd_temperature: PositiveFloat = 4.0
    lr: PositiveFloat = 0.1
    momentum: Momentum = 0.9
    weight_decay: NonNegativeFloat = 5e-4


class BaselineSection(Section):
    """The fields every ``baselines:`` entry has; each method's own config model (registered with
    the method, `tasray.methods.registry`) adds the rest.

    Args:
        method: a registered baseline method, e.g. ``fixed_ratio``.
        transfer: how the pruned net is trained (see ``retrain.transfer``).
        target_ratio: cost ratio R to reach (of ``search.cost``); unset means the experiment's
            search.target_ratio.
    """

    method: str
    transfer: Transfer = "kd"
    target_ratio: Fraction | None = None


class ResourcesConfig(Section):
    """Ray Train workers of every stage, and how fast the fixed-shape stages run on them.

    Args:
        num_workers: data-parallel workers per stage (DDP when more than one).
        use_gpu: give each worker a GPU.
        cpus_per_worker: CPUs reserved per worker.
        gpus_per_worker: GPUs per worker; 0 with use_gpu means 1.
        max_failures: Ray Train restarts of a failed stage from its last checkpoint (-1: unlimited).
        trial_max_failures: Ray Tune restarts of a failed trial (its driver lost with its node);
            its stages resume. Bounded: a trial that fails deterministically fails for good.
        amp: ``bf16``: forward passes of the teacher, retraining and random-search candidates
            under bfloat16 autocast; ``none``: float32.
        channels_last: NHWC memory format for those networks and their inputs.
        cudnn_benchmark: cuDNN autotuning for those stages (CUDA only; their shapes are fixed).
        compile: ``torch.compile`` their forward passes.
    """

    num_workers: int = Field(1, ge=1)
    use_gpu: bool = False
    cpus_per_worker: PositiveFloat = 1.0
    gpus_per_worker: NonNegativeFloat = 0.0
    max_failures: int = Field(1, ge=-1)
    trial_max_failures: int = Field(1, ge=0)
    amp: Literal["none", "bf16"] = "none"
    channels_last: bool = False
    cudnn_benchmark: bool = True
    compile: bool = False

    @model_validator(mode="after")
    def _gpu_count(self) -> ResourcesConfig:
        if self.use_gpu and self.gpus_per_worker == 0:
            self.gpus_per_worker = 1.0
        elif not self.use_gpu and self.gpus_per_worker > 0:
            raise field_error("gpus_per_worker", self.gpus_per_worker, "must be 0 unless use_gpu is true")
        return self
