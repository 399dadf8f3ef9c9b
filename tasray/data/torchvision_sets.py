"""CIFAR-10/100 (torchvision's files, held in memory as tensors) and ImageNet folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch.utils.data import Dataset

from tasray.data.errors import DataError
from tasray.data.splits import DataSplits
from tasray.data.tensor_dataset import TensorImageDataset
from tasray.data.transforms import (
    CIFAR10_STATS,
    CIFAR100_STATS,
    IMAGENET_STATS,
    ChannelStats,
    ShiftFlipPolicy,
    augmentation,
    imagenet_transforms,
    normalization,
)

if TYPE_CHECKING:
    from torchvision import datasets

# Paper, Section 4.1: random 32×32 crop of the image padded by 4 px, random horizontal flip.
CIFAR_POLICY = ShiftFlipPolicy(padding=4, flip=True)
CIFAR_SIZE = (32, 32)
IMAGENET_SIZE = 224
"""Side of ImageNet crops unless `data.image_size` says otherwise (the paper's 224)."""
CIFAR_FILES = {
    "cifar10": [
        *(f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)),
        "cifar-10-batches-py/test_batch",
        "cifar-10-batches-py/batches.meta",
    ],
    "cifar100": ["cifar-100-python/train", "cifar-100-python/test", "cifar-100-python/meta"],
}
"""What `cifar_expected_files` lists, known without importing torchvision (seconds on a driver)."""


def load_cifar10(root: str | None, download: bool = False, augment: bool = True) -> DataSplits:
    """CIFAR-10 from `root` (downloaded there first if `download`): 50,000 train, 10,000 test."""
    from torchvision import datasets  # imported here: it adds seconds to every Ray worker

    return _load_cifar("cifar10", datasets.CIFAR10, CIFAR10_STATS, root, download, augment)


def load_cifar100(root: str | None, download: bool = False, augment: bool = True) -> DataSplits:
    """CIFAR-100 from `root` (downloaded there first if `download`): 50,000 train, 10,000 test."""
    from torchvision import datasets

    return _load_cifar("cifar100", datasets.CIFAR100, CIFAR100_STATS, root, download, augment)


def cifar_expected_files(cifar_class: type[datasets.CIFAR10]) -> list[str]:
    """Paths, relative to root, of the files torchvision's CIFAR class reads."""
    names = [name for name, _ in cifar_class.train_list + cifar_class.test_list]
    names.append(cifar_class.meta["filename"])
    return [f"{cifar_class.base_folder}/{name}" for name in names]


def check_cifar_root(name: str, root: str | None) -> None:
    """The files CIFAR-10/100 needs are all under `root` (offline use, before any worker starts).

    Raises:
        DataError: a missing root, or the files that are missing and where to get them.
    """
    folder = _required_root(name, root)
    expected = CIFAR_FILES[name]
    missing = [path for path in expected if not (folder / path).is_file()]
    if missing:
        raise DataError(
            f"{name} files not found under {folder}: missing {len(missing)} of {', '.join(expected)}; "
            "set data.download: true when online, or extract the python version of the data set there"
        )


def check_imagenet_root(root: str | None) -> list[str]:
    """`root/train` and `root/val` hold the same class folders (images are not scanned); their names.

    Raises:
        DataError: a missing folder, no class folders, or class names that differ between splits.
    """
    folder = _required_root("imagenet", root)
    classes = {}
    for split in ("train", "val"):
        if not (folder / split).is_dir():
            raise DataError(
                f"imagenet expects {folder}/train/<class>/<image> and {folder}/val/<class>/<image>; "
                f"{folder / split} is not a folder"
            )
        classes[split] = sorted(entry.name for entry in (folder / split).iterdir() if entry.is_dir())
        if not classes[split]:
            raise DataError(
                f"imagenet: {folder / split} has no class folders; expected {split}/<class>/<image>"
            )
    if classes["train"] != classes["val"]:
        only_train = sorted(set(classes["train"]) - set(classes["val"]))
        only_val = sorted(set(classes["val"]) - set(classes["train"]))
        raise DataError(
            f"imagenet: class folders of {folder}/train and {folder}/val differ (only in train: "
            f"{_first_few(only_train)}; only in val: {_first_few(only_val)}); both must hold the "
            "same class names"
        )
    return classes["train"]


def _load_cifar(
    name: str,
    cifar_class: type[datasets.CIFAR10],
    stats: ChannelStats,
    root: str | None,
    download: bool,
    augment: bool,
) -> DataSplits:
    folder = _required_root(name, root)
    how_to_get = (
        f"pass download=True (data.download: true) when online, or download {cifar_class.url} "
        f"and extract it into {folder}"
    )
    if not download:
        expected = cifar_expected_files(cifar_class)
        missing = [path for path in expected if not (folder / path).is_file()]
        if missing:
            raise DataError(
                f"{name} files not found under {folder}: expected {', '.join(expected)}; "
                f"missing {len(missing)} of them; {how_to_get}"
            )
    try:
        train_set = cifar_class(str(folder), train=True, download=download)
        test_set = cifar_class(str(folder), train=False, download=False)
    except RuntimeError:  # torchvision's checksum test failed
        raise DataError(
            f"{name} files under {folder / cifar_class.base_folder} are corrupted (checksum "
            f"mismatch); delete that folder and {how_to_get}"
        ) from None
    except OSError as exc:  # URLError is an OSError: no network, or the server refused
        raise DataError(f"could not download {name} into {folder} ({exc}); {how_to_get}") from None

    normalize = normalization(stats)
    shift_flip = augmentation(CIFAR_SIZE, CIFAR_POLICY) if augment else None
    train = TensorImageDataset(*_as_tensors(train_set), normalize, shift_flip)
    return DataSplits(
        name=name,
        train=train,
        train_eval=train.unaugmented(),
        test=TensorImageDataset(*_as_tensors(test_set), normalize),
        num_classes=len(train_set.classes),
        in_channels=3,
        input_size=CIFAR_SIZE,
        class_names=tuple(train_set.classes),
        normalization=stats,
    )


def _as_tensors(cifar_set: datasets.CIFAR10) -> tuple[torch.Tensor, torch.Tensor]:
    """N×3×32×32 uint8 images and int64 labels from torchvision's NHWC arrays."""
    images = torch.from_numpy(cifar_set.data).permute(0, 3, 1, 2).contiguous()
    return images, torch.tensor(cifar_set.targets, dtype=torch.int64)


class TransformedView(Dataset):
    """A data set of (image, label) whose images are passed through `transform` on access."""

    def __init__(self, base: Dataset, transform: Callable) -> None:
        self.base = base
        self.transform = transform

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.base[index]
        return self.transform(image), label


def load_imagenet(
    root: str | None, download: bool = False, augment: bool = True, image_size: int = IMAGENET_SIZE
) -> DataSplits:
    """ImageNet-style folders `root/train/<class>/*` and `root/val/<class>/*`, cropped to `image_size`².

    ImageNet cannot be downloaded automatically (its licence needs a login), so `download` is
    ignored. Each folder is scanned once; the training images get two transformed views.
    """
    folder = _required_root("imagenet", root)
    train_folder = _image_folder(folder, "train")
    val_folder = _image_folder(folder, "val")
    if train_folder.classes != val_folder.classes:
        only_train = sorted(set(train_folder.classes) - set(val_folder.classes))
        only_val = sorted(set(val_folder.classes) - set(train_folder.classes))
        raise DataError(
            f"imagenet: class folders of {folder}/train and {folder}/val differ (only in train: "
            f"{_first_few(only_train)}; only in val: {_first_few(only_val)}); both must hold the "
            "same class names"
        )
    train_transform, eval_transform = imagenet_transforms(augment, image_size)
    return DataSplits(
        name="imagenet",
        train=TransformedView(train_folder, train_transform),
        train_eval=TransformedView(train_folder, eval_transform),
        test=TransformedView(val_folder, eval_transform),
        num_classes=len(train_folder.classes),
        in_channels=3,
        input_size=(image_size, image_size),
        class_names=tuple(train_folder.classes),
        normalization=IMAGENET_STATS,
    )


def _image_folder(root: Path, split: str) -> datasets.ImageFolder:
    layout = (
        f"imagenet expects {root}/train/<class>/<image> and {root}/val/<class>/<image> "
        "(torchvision ImageFolder layout; get the images from https://image-net.org)"
    )
    if not (root / split).is_dir():
        raise DataError(f"{layout}; {root / split} is not a folder")
    from torchvision import datasets

    try:
        return datasets.ImageFolder(str(root / split))
    except FileNotFoundError as exc:  # no class folders, or class folders without images
        raise DataError(f"{layout}; {' '.join(str(exc).split())}") from None


def _first_few(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit]) or "none"
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _required_root(name: str, root: str | None) -> Path:
    if root is None:
        raise DataError(f"{name} needs root: the folder that holds (or will hold) its files")
    return Path(root).expanduser()
