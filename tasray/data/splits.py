"""What a loaded data set hands to the stages, and the search's D_train / D_val split."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from tasray.data.transforms import ChannelStats


@dataclass(frozen=True)
class DataSplits:
    """A data set ready for training: every item is (float CHW tensor, int label).

    `train` carries the training transforms (augmentation when asked for); `train_eval` holds the
    same training images with the evaluation transforms, so the search can score the architecture
    on D_val without augmentation noise; `test` uses the evaluation transforms. `normalization`
    is the per-channel mean and std the images are standardised with (pixels scaled to [0, 1]).
    """

    name: str
    train: Dataset
    train_eval: Dataset
    test: Dataset
    num_classes: int
    in_channels: int
    input_size: tuple[int, int]
    class_names: tuple[str, ...] | None
    normalization: ChannelStats


def split_halves(num_items: int, seed: int) -> tuple[list[int], list[int]]:
    """Split range(num_items) at random into two disjoint, sorted halves (D_train, D_val).

    The sizes differ by at most one and the split depends only on `seed`, so every worker and a
    resumed run agree on it.
    """
    if num_items < 0:
        raise ValueError(f"num_items must be >= 0, got {num_items}")
    order = torch.randperm(num_items, generator=torch.Generator().manual_seed(seed))
    first = (num_items + 1) // 2
    return sorted(order[:first].tolist()), sorted(order[first:].tolist())
