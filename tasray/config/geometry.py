"""Image shape and class count of a data set, known without loading its images.

Validation needs them to build the model and count its FLOPs, and must stay fast even for
ImageNet, so only folder names and array headers are read.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from tasray.config.errors import ConfigError
from tasray.config.sections import DataConfig

Geometry = tuple[int, tuple[int, int], int]
"""(in_channels, (height, width), num_classes)."""

KNOWN_GEOMETRY: dict[str, Geometry] = {
    "digits": (1, (8, 8), 10),
    "cifar10": (3, (32, 32), 10),
    "cifar100": (3, (32, 32), 100),
}
IMAGENET_SIZE = 224
"""Side of ImageNet crops when `data.image_size` is unset (the paper's)."""
IMAGENET_CLASSES = 1000
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def dataset_geometry(data: DataConfig) -> Geometry:
    """(in_channels, (H, W), num_classes) of `data`, read from folder names or array headers.

    ImageNet counts the class folders under ``root/train`` when it exists (1000 otherwise) and is
    cropped to ``data.image_size`` (224 unset). An
    npz file holds ``x_train`` as (N, H, W, C) or (N, H, W) for one channel; the class count is
    the length of its optional ``classes`` array, else the largest label + 1 (as the loader counts).

    Raises:
        ConfigError: the npz file is missing or lacks the expected arrays.
    """
    if data.name in KNOWN_GEOMETRY:
        return KNOWN_GEOMETRY[data.name]
    if data.name == "imagenet":
        size = (data.image_size or IMAGENET_SIZE,) * 2
        train = Path(data.root or "") / "train"
        if not train.is_dir():
            return 3, size, IMAGENET_CLASSES
        classes = sum(1 for entry in train.iterdir() if entry.is_dir())
        if classes == 0:
            raise ConfigError(f"data.root = {data.root!r}: {train} has no class folders")
        return 3, size, classes
    return npz_geometry(Path(data.root or ""))


def npz_geometry(path: Path) -> Geometry:
    """Geometry of an npz data set; only the image array's header and the labels are read."""
    if not path.is_file():
        raise ConfigError(f"data.root = {str(path)!r}: no such .npz file")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name.removesuffix(".npy") for name in archive.namelist()}
            missing = [key for key in NPZ_KEYS if key not in members]
            if missing:
                raise ConfigError(
                    f"data.root = {str(path)!r}: lacks arrays {missing}; needs {list(NPZ_KEYS)}"
                )
            with archive.open("x_train.npy") as stream:
                shape = _array_shape(stream)
        with np.load(path, allow_pickle=False) as arrays:
            if "classes" in arrays.files:
                num_classes = len(arrays["classes"])
            else:
                num_classes = 1 + max(int(arrays[key].max()) for key in ("y_train", "y_test"))
    except ConfigError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise ConfigError(f"data.root = {str(path)!r}: not a readable .npz file ({err})") from None
    if len(shape) not in (3, 4):
        raise ConfigError(
            f"data.root = {str(path)!r}: x_train has shape {shape}; expected (N, H, W, C) or (N, H, W)"
        )
    channels = shape[3] if len(shape) == 4 else 1
    return channels, (shape[1], shape[2]), num_classes


def _array_shape(stream: IO[bytes]) -> tuple[int, ...]:
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, _ = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, _, _ = np.lib.format.read_array_header_2_0(stream)
    return tuple(shape)


KNOWN_TRAIN_IMAGES = {"digits": 1437, "cifar10": 50_000, "cifar100": 50_000}


def train_images(data: DataConfig) -> int | None:
    """Images in the training split, from array headers or file names (estimated for an image
    folder, see `folder_images`); None when unknown."""
    if data.name in KNOWN_TRAIN_IMAGES:
        return KNOWN_TRAIN_IMAGES[data.name]
    root = Path(data.root or "")
    if data.name == "imagenet":
        return folder_images(root / "train")
    try:
        with zipfile.ZipFile(root) as archive, archive.open("x_train.npy") as stream:
            return _array_shape(stream)[0]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


SAMPLED_CLASS_FOLDERS = 8


def folder_images(split: Path) -> int | None:
    """Images under `split/<class>/`, estimated from the files of at most 8 class folders spread
    over the sorted classes, times the number of classes (exact up to 8 classes); None without
    class folders. Listing ImageNet's 1.28 M training files takes minutes on a network filesystem."""
    try:
        with os.scandir(split) as entries:
            classes = sorted(entry.path for entry in entries if entry.is_dir())
        if not classes:
            return None
        step = -(-len(classes) // SAMPLED_CLASS_FOLDERS)  # ceil: at most 8 folders, spread out
        counts = [_files_in(folder) for folder in classes[::step]]
    except OSError:
        return None
    return round(sum(counts) / len(counts) * len(classes))


def _files_in(folder: str) -> int:
    with os.scandir(folder) as entries:
        return sum(1 for entry in entries if entry.is_file())
