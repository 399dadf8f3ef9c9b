"""An in-memory image data set: one tensor of images, one of labels, one cheap transform."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.utils.data import Dataset


class TensorImageDataset(Dataset):
    """Images (N×C×H×W, raw pixel values of any dtype) and labels kept as tensors in memory.

    Items are produced by slicing and a tensor transform, with no PIL round trip, which keeps an
    epoch over a small data set in the tens of milliseconds. Datasets that share `images` share
    the storage, so a training and an evaluation view cost no extra memory.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        transform: Callable[[torch.Tensor], torch.Tensor],
    ) -> None:
        if images.ndim != 4 or len(images) != len(labels):
            raise ValueError(f"need N×C×H×W images and N labels, got {tuple(images.shape)} and {len(labels)}")
        self.images = images
        self.labels = labels.long()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(self.images[index]), int(self.labels[index])

    def with_transform(self, transform: Callable[[torch.Tensor], torch.Tensor]) -> TensorImageDataset:
        """The same images and labels seen through another transform."""
        return TensorImageDataset(self.images, self.labels, transform)
