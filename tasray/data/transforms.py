"""Per-data-set augmentation and normalisation (paper, Section 4.1).

In-memory images stay raw tensors (uint8 pixels, or digits' 0..16 levels) and every item goes
through a few tensor operations: a random shift with zero fill (the same distribution as padding
by p pixels and cropping back at random) and a horizontal flip, then scaling to [0, 1] and
per-channel standardisation. Padding happens before normalisation, as with torchvision's PIL
pipeline, so the border is black. Random draws use torch's RNG, which DataLoader workers seed
from the loader's generator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

_STATS_CHUNK = 4096  # images per chunk when summing, so large uint8 sets are never copied as float


@dataclass(frozen=True)
class ChannelStats:
    """Per-channel mean and standard deviation of pixels scaled to [0, 1]."""

    mean: tuple[float, ...]
    std: tuple[float, ...]


# Published statistics of the full training sets (pixels in [0, 1]).
CIFAR10_STATS = ChannelStats(mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616))
CIFAR100_STATS = ChannelStats(mean=(0.5071, 0.4865, 0.4409), std=(0.2673, 0.2564, 0.2762))
IMAGENET_STATS = ChannelStats(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))


def channel_stats(images: torch.Tensor, scale: float) -> ChannelStats:
    """Mean and std of each channel of N×C×H×W raw `images`, after dividing by `scale`."""
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    total_sq = torch.zeros_like(total)
    for chunk in images.split(_STATS_CHUNK):
        values = chunk.to(torch.float64) / scale
        total += values.sum(dim=(0, 2, 3))
        total_sq += values.square().sum(dim=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    # A constant channel would divide by zero; treat it as unit spread.
    std = (total_sq / count - mean.square()).clamp_min(0).sqrt()
    std = torch.where(std > 0, std, torch.ones_like(std))
    return ChannelStats(mean=tuple(mean.tolist()), std=tuple(std.tolist()))


class ScaleAndNormalize:
    """Raw pixels → float, divided by `scale`, minus the channel mean, over the channel std."""

    def __init__(self, stats: ChannelStats, scale: float) -> None:
        mean = torch.tensor(stats.mean, dtype=torch.float32).view(-1, 1, 1)
        std = torch.tensor(stats.std, dtype=torch.float32).view(-1, 1, 1)
        self.multiplier = 1.0 / (scale * std)
        self.offset = -mean / std

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        # Out of place: the input may be a view of the data set's own storage.
        return torch.addcmul(self.offset, image.float(), self.multiplier)


class RandomShift:
    """Pad by `padding` zeros, crop back to size at a random offset; the pad is never allocated."""

    def __init__(self, padding: int) -> None:
        self.padding = padding

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        p = self.padding
        dy, dx = (torch.randint(0, 2 * p + 1, (2,)) - p).tolist()
        if dy == 0 and dx == 0:
            return image
        h, w = image.shape[-2:]
        shifted = torch.zeros_like(image)
        shifted[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
            ..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
        ]
        return shifted


class RandomHorizontalFlip:
    """Mirror left-right with probability 1/2."""

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return image.flip(-1) if torch.rand(()) < 0.5 else image


class Chain:
    """Apply transforms in order (torchvision's Compose, without importing torchvision)."""

    def __init__(self, steps: list) -> None:
        self.transforms = steps

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        for step in self.transforms:
            image = step(image)
        return image


@dataclass(frozen=True)
class ShiftFlipPolicy:
    """Augmentation of small in-memory images: a shift of up to `padding` px, and maybe a flip."""

    padding: int
    flip: bool


def tensor_transforms(
    stats: ChannelStats, scale: float, policy: ShiftFlipPolicy, augment: bool
) -> tuple[Chain, Chain]:
    """(train, eval) transforms for raw image tensors; train equals eval when `augment` is off."""
    normalize = ScaleAndNormalize(stats, scale)
    eval_transform = Chain([normalize])
    if not augment:
        return eval_transform, eval_transform
    steps: list = [RandomShift(policy.padding)] if policy.padding > 0 else []
    if policy.flip:
        steps.append(RandomHorizontalFlip())
    return Chain([*steps, normalize]), eval_transform


def imagenet_transforms(augment: bool) -> tuple[Callable, Callable]:
    """(train, eval) PIL transforms for ImageNet folders, as in the paper (Section 4.1)."""
    from torchvision import transforms as T  # imported here: it adds seconds to every Ray worker

    to_tensor = [T.ToTensor(), T.Normalize(IMAGENET_STATS.mean, IMAGENET_STATS.std)]
    eval_transform = T.Compose([T.Resize(256), T.CenterCrop(224), *to_tensor])
    if not augment:
        return eval_transform, eval_transform
    train_transform = T.Compose(
        [
            T.RandomResizedCrop(224),
            T.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4),
            T.RandomHorizontalFlip(),
            *to_tensor,
        ]
    )
    return train_transform, eval_transform
