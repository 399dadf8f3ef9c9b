"""scikit-learn's bundled 8×8 handwritten digits: real data that needs no download."""

from __future__ import annotations

import torch

from tasray.data.digits_cache import digits_arrays
from tasray.data.splits import DataSplits
from tasray.data.tensor_dataset import TensorImageDataset
from tasray.data.transforms import ShiftFlipPolicy, augmentation, channel_stats, normalization

# The train/test split is part of the data set's definition, not of an experiment, so its seed
# is fixed: every run, whatever its seed, is scored on the same 360 test images.
TEST_FRACTION = 0.2
SPLIT_SEED = 0
# A 1-px shift is a quarter of a stroke at this size; flips would turn digits into other shapes.
DIGITS_POLICY = ShiftFlipPolicy(padding=1, flip=False)
INPUT_SIZE = (8, 8)


def load_digits(root: str | None = None, download: bool = False, augment: bool = True) -> DataSplits:
    """1,437 training and 360 test images (1×8×8), stratified 80/20, normalised by train stats.

    `root` and `download` are accepted for a uniform loader signature and ignored: the data ships
    with scikit-learn (read through a per-user cache, `tasray.data.digits_cache`).
    """
    arrays = digits_arrays(TEST_FRACTION, SPLIT_SEED)
    images = torch.from_numpy(arrays["images"]).unsqueeze(1)  # levels 0..16
    labels = torch.from_numpy(arrays["labels"])
    train_index, test_index = torch.from_numpy(arrays["train_index"]), torch.from_numpy(arrays["test_index"])
    train_images, test_images = images[train_index].contiguous(), images[test_index].contiguous()
    stats = channel_stats(train_images)
    normalize = normalization(stats)
    shift = augmentation(INPUT_SIZE, DIGITS_POLICY) if augment else None
    train = TensorImageDataset(train_images, labels[train_index], normalize, shift)
    return DataSplits(
        name="digits",
        train=train,
        train_eval=train.unaugmented(),
        test=TensorImageDataset(test_images, labels[test_index], normalize),
        num_classes=len(arrays["class_names"]),
        in_channels=1,
        input_size=INPUT_SIZE,
        class_names=tuple(str(name) for name in arrays["class_names"]),
        normalization=stats,
    )
