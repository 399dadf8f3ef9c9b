"""Data sets by name: `load_data` is the one entry point the stages and the CLI use."""

from __future__ import annotations

from collections.abc import Callable

from tasray.data.digits import load_digits
from tasray.data.errors import DataError
from tasray.data.npz import load_npz
from tasray.data.splits import DataSplits
from tasray.data.torchvision_sets import load_cifar10, load_cifar100, load_imagenet

Loader = Callable[[str | None, bool, bool], DataSplits]  # (root, download, augment)
SIZED = {"imagenet": load_imagenet}
"""Data sets whose images are cropped to a size of the user's choice (`data.image_size`)."""

DATASETS: dict[str, Loader] = {
    "digits": load_digits,
    "cifar10": load_cifar10,
    "cifar100": load_cifar100,
    "imagenet": load_imagenet,
    "npz": load_npz,
}


def load_data(
    name: str,
    root: str | None = None,
    *,
    download: bool = False,
    augment: bool = True,
    image_size: int | None = None,
) -> DataSplits:
    """Load data set `name`; for "npz", `root` is the .npz file, otherwise a folder.

    `download` fetches CIFAR files into `root` (needs the internet); `augment=False` gives the
    training split the evaluation transforms; `image_size` sets the side of ImageNet crops.
    """
    try:
        loader = DATASETS[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; allowed: {', '.join(sorted(DATASETS))}") from None
    if image_size is None:
        return loader(root, download, augment)
    if name not in SIZED:
        raise DataError(f"image_size applies to {', '.join(SIZED)} only; {name} images keep their size")
    return SIZED[name](root, download, augment, image_size)
