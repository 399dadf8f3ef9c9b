"""A user's own arrays in one .npz file: x_train, y_train, x_test, y_test and optional classes.

Images are uint8 pixels, N×H×W×C with any channel count and size (N×H×W is read as one
channel); labels are integers 0..K-1. Every check names the key, what was found and what is
allowed, so a malformed file stops at the door with one line.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from tasray.data.errors import DataError
from tasray.data.splits import DataSplits
from tasray.data.tensor_dataset import TensorImageDataset
from tasray.data.transforms import ShiftFlipPolicy, augmentation, channel_stats, normalization
from tasray.plural import plural

REQUIRED_KEYS = ("x_train", "y_train", "x_test", "y_test")
CLASSES_KEY = "classes"


def load_npz(root: str | None, download: bool = False, augment: bool = True) -> DataSplits:
    """Load the .npz file at `root`; `download` is ignored (the file is the user's own)."""
    path = _existing_file(root)
    arrays = _read_arrays(path)
    x_train = _images(path, "x_train", arrays["x_train"])
    x_test = _images(path, "x_test", arrays["x_test"])
    if x_test.shape[1:] != x_train.shape[1:]:
        raise DataError(
            f"{path}: x_test images are C×H×W {tuple(x_test.shape[1:])} but x_train images are "
            f"{tuple(x_train.shape[1:])}; both splits must share one image shape"
        )
    y_train = _labels(path, "y_train", arrays["y_train"], len(x_train))
    y_test = _labels(path, "y_test", arrays["y_test"], len(x_test))
    class_names = _class_names(path, arrays.get(CLASSES_KEY))
    num_classes = _check_label_range(path, {"y_train": y_train, "y_test": y_test}, class_names)

    channels, height, width = x_train.shape[1:]
    stats = channel_stats(x_train)
    normalize = normalization(stats)
    shift = augmentation((height, width), small_image_policy(channels, height, width)) if augment else None
    train = TensorImageDataset(x_train, y_train, normalize, shift)
    return DataSplits(
        name="npz",
        train=train,
        train_eval=train.unaugmented(),
        test=TensorImageDataset(x_test, y_test, normalize),
        num_classes=num_classes,
        in_channels=channels,
        input_size=(height, width),
        class_names=class_names,
        normalization=stats,
    )


def check_npz(root: str | None) -> int:
    """Every check `load_npz` makes, reading only the image arrays' headers; returns the class count.

    Labels (small) are read whole to check their range; images are not loaded, so this is cheap
    enough to run on the driver before any worker starts.

    Raises:
        DataError: one line naming the key, what was found and what is allowed.
    """
    path = _existing_file(root)
    arrays = _read_arrays(path, keys=("y_train", "y_test"))  # also checks every required key is there
    try:
        with zipfile.ZipFile(path) as archive:
            shapes = {key: _image_shape(path, key, *_header(archive, key)) for key in ("x_train", "x_test")}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path} is not a readable .npz archive ({_one_line(exc)})") from None
    if shapes["x_test"][1:] != shapes["x_train"][1:]:
        raise DataError(
            f"{path}: x_test images are H×W×C {shapes['x_test'][1:]} but x_train images are "
            f"{shapes['x_train'][1:]}; both splits must share one image shape"
        )
    labels = {key: _labels(path, key, arrays[key], shapes["x" + key[1:]][0]) for key in ("y_train", "y_test")}
    return _check_label_range(path, labels, _class_names(path, arrays.get(CLASSES_KEY)))


def _header(archive: zipfile.ZipFile, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from an array's .npy header inside the archive."""
    with archive.open(f"{key}.npy") as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    return tuple(shape), dtype


def _image_shape(path: Path, key: str, shape: tuple[int, ...], dtype: np.dtype) -> tuple[int, ...]:
    """N×H×W×C of an image array known by its header (N×H×W counts as one channel)."""
    if dtype != np.uint8:
        raise DataError(f"{path}: {key} has dtype {dtype}; images must be uint8 pixels 0-255")
    if len(shape) not in (3, 4) or 0 in shape:
        raise DataError(
            f"{path}: {key} has shape {shape}; images must be a non-empty N×H×W×C array "
            "(or N×H×W for one channel)"
        )
    return shape if len(shape) == 4 else (*shape, 1)


def small_image_policy(channels: int, height: int, width: int) -> ShiftFlipPolicy:
    """CIFAR-style augmentation scaled to the image: shift by 1/8 of the side, flip colour only.

    32×32 gives CIFAR's 4 px; 8×8 gives 1 px. One-channel images are often glyphs (digits,
    letters) that a mirror turns into other symbols, so only 3-channel photos are flipped.
    """
    return ShiftFlipPolicy(padding=max(1, min(height, width) // 8), flip=channels == 3)


def _existing_file(root: str | None) -> Path:
    if root is None:
        raise DataError("npz needs root: the path of a .npz file")
    path = Path(root).expanduser()
    if not path.exists():
        raise DataError(f"npz file not found: {path}")
    if not path.is_file():
        raise DataError(f"{path} is not a file; npz needs the path of a .npz file")
    return path


def _read_arrays(path: Path, keys: tuple[str, ...] = REQUIRED_KEYS) -> dict[str, np.ndarray]:
    """The arrays named in `keys`, plus `classes` if present; every required key must exist."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path} is not a readable .npz archive ({_one_line(exc)})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{path} holds a single array; npz needs an archive made by np.savez")
    with archive:
        missing = [key for key in REQUIRED_KEYS if key not in archive.files]
        if missing:
            raise DataError(
                f"{path} lacks {', '.join(missing)}; an npz data set needs "
                f"{', '.join(REQUIRED_KEYS)} (and optionally {CLASSES_KEY})"
            )
        wanted = [*keys, *([CLASSES_KEY] if CLASSES_KEY in archive.files else [])]
        arrays = {}
        for key in wanted:
            try:
                arrays[key] = archive[key]
            except ValueError:  # object arrays need pickle, which we refuse for safety
                raise DataError(
                    f"{path}: {key} is a Python-object array; use a numeric array, or strings "
                    f"for {CLASSES_KEY} (np.array(names, dtype=str))"
                ) from None
    return arrays


def _images(path: Path, key: str, array: np.ndarray) -> torch.Tensor:
    """N×C×H×W uint8 tensor from N×H×W×C (or N×H×W) uint8 pixels."""
    if array.dtype != np.uint8:
        raise DataError(f"{path}: {key} has dtype {array.dtype}; images must be uint8 pixels 0-255")
    if array.ndim not in (3, 4) or 0 in array.shape:
        raise DataError(
            f"{path}: {key} has shape {array.shape}; images must be a non-empty N×H×W×C array "
            "(or N×H×W for one channel)"
        )
    images = torch.from_numpy(np.ascontiguousarray(array))
    if images.ndim == 3:
        return images.unsqueeze(1)
    return images.permute(0, 3, 1, 2).contiguous()


def _labels(path: Path, key: str, array: np.ndarray, num_images: int) -> torch.Tensor:
    if array.dtype.kind not in "iu":
        raise DataError(f"{path}: {key} has dtype {array.dtype}; labels must be integers (class indices)")
    if array.ndim != 1:
        raise DataError(f"{path}: {key} has shape {array.shape}; labels must be one-dimensional")
    if len(array) != num_images:
        images_key = "x" + key[1:]
        raise DataError(
            f"{path}: {key} has {plural(len(array), 'label')} but {images_key} has "
            f"{plural(num_images, 'image')}; "
            "they must have the same length"
        )
    return torch.from_numpy(array.astype(np.int64))


def _class_names(path: Path, array: np.ndarray | None) -> tuple[str, ...] | None:
    if array is None:
        return None
    if array.dtype.kind not in "US" or array.ndim != 1:
        raise DataError(
            f"{path}: {CLASSES_KEY} has dtype {array.dtype} and shape {array.shape}; "
            "it must be a one-dimensional array of strings"
        )
    return tuple(str(name) for name in array.tolist())


def _check_label_range(
    path: Path, labels: dict[str, torch.Tensor], class_names: tuple[str, ...] | None
) -> int:
    """The number of classes, after checking every label lies in 0..K-1 (splits are non-empty)."""
    for key, values in labels.items():
        if values.min() < 0:
            position = int(values.argmin())
            raise DataError(f"{path}: {key}[{position}] is {int(values[position])}; labels must be >= 0")
    if class_names is None:
        num_classes = 1 + max(int(values.max()) for values in labels.values())
    else:
        num_classes = len(class_names)
        for key, values in labels.items():
            if values.max() >= num_classes:
                position = int(values.argmax())
                raise DataError(
                    f"{path}: {key}[{position}] is {int(values[position])} but {CLASSES_KEY} "
                    f"names {plural(num_classes, 'class', 'classes')}; labels must be 0..{num_classes - 1}"
                )
    if num_classes < 2:
        classes = plural(num_classes, "class", "classes")
        raise DataError(f"{path}: the labels name {classes}; a classifier needs >= 2")
    return num_classes


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
