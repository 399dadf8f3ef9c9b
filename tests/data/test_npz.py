from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.transforms.v2 import RandomCrop, RandomHorizontalFlip

from tasray.data import DataError, load_data
from tasray.data.npz import check_npz

SHARED_CIFAR_SUBSET = Path("/work/shared/data/cifar10-subset.npz")


def _arrays(shape=(32, 32, 3), train=40, test=12, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (train, *shape), dtype=np.uint8),
        "y_train": np.arange(train) % classes,
        "x_test": rng.integers(0, 256, (test, *shape), dtype=np.uint8),
        "y_test": np.arange(test) % classes,
    }


def _write(tmp_path, **arrays) -> str:
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    return str(path)


def _stack(dataset):
    return torch.stack([dataset[i][0] for i in range(len(dataset))])


def _steps(dataset):
    return [type(step) for step in dataset.augment.transforms]


def test_three_channel_32px_file_with_class_names(tmp_path):
    arrays = _arrays()
    names = np.array(["cat", "dog", "owl", "yak"])
    data = load_data("npz", _write(tmp_path, **arrays, classes=names))
    assert (len(data.train), len(data.test), data.num_classes) == (40, 12, 4)
    assert (data.in_channels, data.input_size, data.class_names) == (3, (32, 32), tuple(names))
    assert data.train[0][0].shape == (3, 32, 32)
    assert [data.test[i][1] for i in range(4)] == [0, 1, 2, 3]
    images = _stack(data.train_eval)
    assert torch.allclose(images.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(images.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-2)
    assert _steps(data.train)[:2] == [RandomCrop, RandomHorizontalFlip]  # CIFAR-style
    assert data.train.augment.transforms[0].padding == [4] * 4


def test_channels_come_out_in_chw_order(tmp_path):
    arrays = _arrays(shape=(4, 5, 3), train=2, test=2, classes=2)
    arrays["x_train"][0] = [10, 120, 240]  # one colour per channel
    data = load_data("npz", _write(tmp_path, **arrays), augment=False)
    image = data.train[0][0]
    assert image.shape == (3, 4, 5)
    assert all(image[c].unique().numel() == 1 for c in range(3))
    assert image[0, 0, 0] < image[1, 0, 0] < image[2, 0, 0]


def test_one_channel_28px_file_nhwc_and_nhw_load_alike(tmp_path):
    arrays = _arrays(shape=(28, 28, 1), classes=10)
    with_axis = load_data("npz", _write(tmp_path, **arrays))
    arrays["x_train"], arrays["x_test"] = arrays["x_train"][..., 0], arrays["x_test"][..., 0]
    without_axis = load_data("npz", _write(tmp_path, **arrays))
    for data in (with_axis, without_axis):
        assert (data.in_channels, data.input_size, data.num_classes) == (1, (28, 28), 10)
        assert data.class_names is None
        assert data.train[0][0].shape == (1, 28, 28)
        assert _steps(data.train)[0] is RandomCrop and RandomHorizontalFlip not in _steps(data.train)
    assert torch.equal(_stack(with_axis.test), _stack(without_axis.test))


def test_augmentation_changes_images_but_not_their_shape(tmp_path):
    data = load_data("npz", _write(tmp_path, **_arrays()))
    augmented, plain = _stack(data.train), _stack(data.train_eval)
    assert augmented.shape == plain.shape
    changed = (augmented != plain).flatten(1).any(dim=1)
    assert changed.sum() >= 30  # a still image needs offset (0, 0) and no flip: p = 1/162


def test_number_of_classes_comes_from_the_labels_without_names(tmp_path):
    arrays = _arrays(classes=3)
    arrays["y_test"][0] = 6  # a class seen only in the test split still counts
    assert load_data("npz", _write(tmp_path, **arrays)).num_classes == 7


def _malformed(name):
    arrays = _arrays()
    if name == "missing key":
        del arrays["y_test"]
    elif name == "negative label":
        arrays["y_train"][5] = -1
    elif name == "label beyond classes":
        arrays["y_test"][3] = 4
        arrays["classes"] = np.array(["a", "b", "c", "d"])
    elif name == "mismatched lengths":
        arrays["y_train"] = arrays["y_train"][:-1]
    elif name == "float images":
        arrays["x_train"] = arrays["x_train"].astype(np.float32) / 255
    elif name == "float labels":
        arrays["y_test"] = arrays["y_test"].astype(np.float64)
    elif name == "flat images":
        arrays["x_test"] = arrays["x_test"].reshape(12, -1)
    elif name == "5-d images":
        arrays["x_train"] = arrays["x_train"][:, None]
    elif name == "2-d labels":
        arrays["y_train"] = arrays["y_train"][:, None]
    elif name == "empty split":
        arrays["x_test"], arrays["y_test"] = arrays["x_test"][:0], arrays["y_test"][:0]
    elif name == "test shape differs":
        arrays["x_test"] = arrays["x_test"][:, :16]
    elif name == "object classes":
        arrays["classes"] = np.array(["a", 1, None, "d"], dtype=object)
    elif name == "numeric classes":
        arrays["classes"] = np.arange(4)
    elif name == "one class":
        arrays["y_train"][:], arrays["y_test"][:] = 0, 0
    return arrays


MALFORMED = {
    "missing key": "lacks y_test; an npz data set needs x_train, y_train, x_test, y_test",
    "negative label": "y_train[5] is -1; labels must be >= 0",
    "label beyond classes": "y_test[3] is 4 but classes names 4 classes; labels must be 0..3",
    "mismatched lengths": "y_train has 39 labels but x_train has 40 images",
    "float images": "x_train has dtype float32; images must be uint8",
    "float labels": "y_test has dtype float64; labels must be integers",
    "flat images": "x_test has shape (12, 3072); images must be a non-empty N×H×W×C",
    "5-d images": "x_train has shape (40, 1, 32, 32, 3)",
    "2-d labels": "y_train has shape (40, 1); labels must be one-dimensional",
    "empty split": "x_test has shape (0, 32, 32, 3); images must be a non-empty",
    "test shape differs": "x_test images are C×H×W (3, 16, 32) but x_train images are (3, 32, 32)",
    "object classes": "classes is a Python-object array",
    "numeric classes": "classes has dtype int64 and shape (4,); it must be a one-dimensional "
    "array of strings",
    "one class": "the labels name 1 class; a classifier needs >= 2",
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_gives_one_clear_line(tmp_path, case):
    path = _write(tmp_path, **_malformed(case))
    with pytest.raises(DataError) as caught:
        load_data("npz", path)
    message = str(caught.value)
    assert MALFORMED[case] in message
    assert path in message and "\n" not in message


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: tmp / "absent.npz", "npz file not found"),
        (lambda tmp: tmp, "is not a file; npz needs the path of a .npz file"),
        (lambda tmp: _text_file(tmp), "is not a readable .npz archive"),
        (lambda tmp: _npy_file(tmp), "holds a single array; npz needs an archive made by np.savez"),
    ],
)
def test_wrong_path_or_file_kind_gives_one_clear_line(tmp_path, make, expected):
    with pytest.raises(DataError, match=expected) as caught:
        load_data("npz", str(make(tmp_path)))
    assert "\n" not in str(caught.value)


def test_missing_root_is_explained():
    with pytest.raises(DataError, match="npz needs root"):
        load_data("npz")


def _text_file(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("x_train,y_train\n1,2\n")
    return path


def _npy_file(tmp_path):
    path = tmp_path / "images.npy"
    np.save(path, np.zeros((2, 3), dtype=np.uint8))
    return path


@pytest.mark.skipif(not SHARED_CIFAR_SUBSET.exists(), reason="shared CIFAR-10 subset not present")
def test_shared_cifar10_subset_loads_unchanged():
    data = load_data("npz", str(SHARED_CIFAR_SUBSET))
    assert (len(data.train), len(data.test), data.num_classes) == (4068, 1017, 10)
    assert (data.in_channels, data.input_size) == (3, (32, 32))
    assert data.class_names[0] == "airplane" and data.class_names[-1] == "truck"
    assert _steps(data.train)[:2] == [RandomCrop, RandomHorizontalFlip]
    sample = torch.stack([data.train_eval[i][0] for i in range(0, 4068, 4)])
    assert torch.allclose(sample.mean(dim=(0, 2, 3)), torch.zeros(3), atol=0.05)
    assert torch.allclose(sample.std(dim=(0, 2, 3)), torch.ones(3), atol=0.05)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_the_driver_check_stops_what_the_loader_stops(tmp_path, case):
    """`check_npz` (image headers only, run before Ray) rejects every file `load_npz` rejects."""
    path = _write(tmp_path, **_malformed(case))
    with pytest.raises(DataError) as caught:
        check_npz(path)
    if case != "test shape differs":  # the header check words shapes as H×W×C, the loader as C×H×W
        assert MALFORMED[case] in str(caught.value)


def test_the_driver_check_counts_the_classes_like_the_loader(tmp_path):
    arrays = _arrays(classes=3)
    arrays["y_test"][0] = 6  # a class seen only in the test split still counts
    path = _write(tmp_path, **arrays)
    assert check_npz(path) == load_data("npz", path).num_classes == 7
