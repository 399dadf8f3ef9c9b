"""An in-memory image data set: one tensor of images, one of labels, augmentation and normalisation."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from tasray.data.transforms import Transform


class TensorImageDataset(Dataset):
    """Images (N×C×H×W uint8) and labels kept as tensors in memory.

    Items are produced by slicing, an optional random `augment` per image and `normalize`. A
    DataLoader asks for whole batches (`__getitems__`), which are normalised at once: a per-image
    call of torchvision's transforms costs more than the arithmetic on a 32×32 image. Datasets
    that share `images` share the storage, so a training and an evaluation view cost no memory.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        normalize: Transform,
        augment: Transform | None = None,
    ) -> None:
        if images.ndim != 4 or len(images) != len(labels):
            raise ValueError(f"need N×C×H×W images and N labels, got {tuple(images.shape)} and {len(labels)}")
        self.images = images
        self.labels = labels.long()
        self.normalize = normalize
        self.augment = augment

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.__getitems__([index])[0]

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, int]]:
        """The items at `indices`, augmented one by one (in order: the RNG draws replay) and
        normalised together."""
        images = self.images[indices]
        if self.augment is not None:
            images = torch.stack([self.augment(image) for image in images])
        return list(zip(self.normalize(images).unbind(), self.labels[indices].tolist(), strict=True))

    def unaugmented(self) -> TensorImageDataset:
        """The same images and labels, normalised only (the evaluation view)."""
        return TensorImageDataset(self.images, self.labels, self.normalize)
