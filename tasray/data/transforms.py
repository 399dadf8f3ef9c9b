"""Per-data-set augmentation and normalisation (paper, Section 4.1), as torchvision.transforms.v2.

In-memory images stay uint8 tensors (digits' 0..16 levels included). Training crops the image
padded by p zero pixels back to its size at a random offset and may flip it (per image); then
pixels are scaled to [0, 1] and standardised per channel (per batch, see `TensorImageDataset`).
Padding happens before normalisation, so the border is black. v2 draws its random parameters
from torch's RNG, which DataLoader workers seed from the loader's generator, so augmentation
replays exactly.

torchvision is imported inside the functions: it adds about a second to every process that
imports this module, and most Ray workers never build a data set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

_STATS_CHUNK = 4096  # images per chunk when summing, so large uint8 sets are never copied as float
PIXEL_SCALE = 255.0
"""uint8 pixels are divided by this (v2.ToDtype(scale=True)) before standardisation."""
IMAGENET_RESIZE = 256 / 224
"""Evaluation resizes the shorter side to this multiple of the crop size (256 for 224)."""


@dataclass(frozen=True)
class ChannelStats:
    """Per-channel mean and standard deviation of pixels scaled to [0, 1]."""

    mean: tuple[float, ...]
    std: tuple[float, ...]


# Published statistics of the full training sets (pixels in [0, 1]).
CIFAR10_STATS = ChannelStats(mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616))
CIFAR100_STATS = ChannelStats(mean=(0.5071, 0.4865, 0.4409), std=(0.2673, 0.2564, 0.2762))
IMAGENET_STATS = ChannelStats(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))


def channel_stats(images: torch.Tensor) -> ChannelStats:
    """Mean and std of each channel of N×C×H×W uint8 `images`, with pixels scaled to [0, 1]."""
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    total_sq = torch.zeros_like(total)
    for chunk in images.split(_STATS_CHUNK):
        values = chunk.to(torch.float64) / PIXEL_SCALE
        total += values.sum(dim=(0, 2, 3))
        total_sq += values.square().sum(dim=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    # A constant channel would divide by zero; treat it as unit spread.
    std = (total_sq / count - mean.square()).clamp_min(0).sqrt()
    std = torch.where(std > 0, std, torch.ones_like(std))
    return ChannelStats(mean=tuple(mean.tolist()), std=tuple(std.tolist()))


@dataclass(frozen=True)
class ShiftFlipPolicy:
    """Augmentation of small in-memory images: a shift of up to `padding` px, and maybe a flip."""

    padding: int
    flip: bool


Transform = Callable[[torch.Tensor], torch.Tensor]


def normalization(stats: ChannelStats) -> Transform:
    """uint8 pixels (one image or a batch) → float in [0, 1], standardised with `stats`."""
    from torchvision.transforms import v2

    return v2.Compose([v2.ToDtype(torch.float32, scale=True), v2.Normalize(stats.mean, stats.std)])


def augmentation(size: tuple[int, int], policy: ShiftFlipPolicy) -> Transform:
    """Random pad-and-crop and flip of one C×H×W uint8 image of `size`, as `policy` says."""
    from torchvision.transforms import v2

    steps = [v2.RandomCrop(size, padding=policy.padding)] if policy.padding > 0 else []
    if policy.flip:
        steps.append(v2.RandomHorizontalFlip())
    return v2.Compose(steps)


def imagenet_transforms(augment: bool, size: int) -> tuple[Transform, Transform]:
    """(train, eval) transforms of decoded ImageNet images (PIL) to `size`² crops, as in the paper."""
    from torchvision.transforms import v2

    to_float = [v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_STATS.mean, IMAGENET_STATS.std)]
    resize = [v2.Resize(round(size * IMAGENET_RESIZE)), v2.CenterCrop(size)]
    eval_transform = v2.Compose([v2.PILToTensor(), *resize, *to_float])
    if not augment:
        return eval_transform, eval_transform
    augmentation = [
        v2.RandomResizedCrop(size),
        v2.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4),
        v2.RandomHorizontalFlip(),
    ]
    return v2.Compose([v2.PILToTensor(), *augmentation, *to_float]), eval_transform
