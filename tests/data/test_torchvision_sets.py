import pickle
import urllib.error

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import datasets
from torchvision.datasets import cifar as cifar_module

from tasray.config import DataConfig, dataset_geometry
from tasray.data import DataError, load_data
from tasray.data.torchvision_sets import CIFAR_FILES, cifar_expected_files
from tasray.data.transforms import CIFAR10_STATS


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "cifar10",
            [
                "cifar-10-batches-py/data_batch_1",
                "cifar-10-batches-py/data_batch_5",
                "cifar-10-batches-py/test_batch",
                "cifar-10-batches-py/batches.meta",
            ],
        ),
        ("cifar100", ["cifar-100-python/train", "cifar-100-python/test", "cifar-100-python/meta"]),
    ],
)
def test_missing_cifar_files_give_one_line_naming_them(tmp_path, name, expected):
    with pytest.raises(DataError) as caught:
        load_data(name, str(tmp_path / "nowhere"))
    message = str(caught.value)
    assert "\n" not in message
    assert all(path in message for path in expected)
    assert "download=True" in message and "https://www.cs.toronto.edu/~kriz/" in message


def _write_cifar10(root, images_per_batch=3):
    """Batches in torchvision's CIFAR-10 pickle format: rows of 3072 bytes, channel-major."""
    folder = root / datasets.CIFAR10.base_folder
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batches = {}
    for name, _ in datasets.CIFAR10.train_list + datasets.CIFAR10.test_list:
        images = rng.integers(0, 256, (images_per_batch, 3, 32, 32), dtype=np.uint8)
        labels = list(range(images_per_batch))
        batches[name] = images
        with open(folder / name, "wb") as handle:
            pickle.dump({"data": images.reshape(images_per_batch, -1), "labels": labels}, handle)
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, handle)
    return batches


def test_cifar_files_with_wrong_checksums_are_reported_as_corrupted(tmp_path):
    _write_cifar10(tmp_path)
    with pytest.raises(DataError, match="corrupted .checksum mismatch.; delete that folder"):
        load_data("cifar10", str(tmp_path))


def test_partly_present_cifar_files_are_still_listed(tmp_path):
    _write_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "test_batch").unlink()
    with pytest.raises(DataError, match="missing 1 of them"):
        load_data("cifar10", str(tmp_path))


def test_cifar_is_read_into_chw_tensors_with_paper_augmentation(tmp_path, monkeypatch):
    batches = _write_cifar10(tmp_path)
    # Our fake files cannot match the real checksums; everything else runs as in production.
    monkeypatch.setattr(cifar_module, "check_integrity", lambda path, md5=None: True)
    data = load_data("cifar10", str(tmp_path))
    assert (len(data.train), len(data.test), data.num_classes) == (15, 3, 10)
    assert (data.in_channels, data.input_size) == (3, (32, 32))
    assert data.class_names == tuple(f"class{i}" for i in range(10))
    image, label = data.test[1]
    mean = torch.tensor(CIFAR10_STATS.mean).view(3, 1, 1)
    std = torch.tensor(CIFAR10_STATS.std).view(3, 1, 1)
    expected = (torch.from_numpy(batches["test_batch"][1]).float() / 255 - mean) / std
    assert label == 1 and torch.allclose(image, expected, atol=1e-5)
    shift, flip = data.train.augment.transforms
    assert shift.padding == [4] * 4 and type(flip).__name__ == "RandomHorizontalFlip"


def test_failed_download_names_the_manual_route(tmp_path, monkeypatch):
    def offline(self):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(datasets.CIFAR100, "download", offline)
    with pytest.raises(DataError, match="could not download cifar100 into .*cifar-100-python"):
        load_data("cifar100", str(tmp_path), download=True)


@pytest.mark.parametrize("name", ["cifar10", "cifar100", "imagenet"])
def test_folder_data_sets_need_a_root(name):
    with pytest.raises(DataError, match=f"{name} needs root"):
        load_data(name)


def test_expected_cifar_files_come_from_torchvision():
    assert len(cifar_expected_files(datasets.CIFAR10)) == 7
    assert cifar_expected_files(datasets.CIFAR100) == [
        "cifar-100-python/train",
        "cifar-100-python/test",
        "cifar-100-python/meta",
    ]


def _image_folders(root, splits=("train", "val"), classes=("ant", "bee")):
    rng = np.random.default_rng(0)
    for split in splits:
        for name in classes:
            (root / split / name).mkdir(parents=True)
            for index in range(2):
                pixels = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / split / name / f"{index}.png")


def test_imagenet_folders_give_224px_crops(tmp_path):
    _image_folders(tmp_path)
    data = load_data("imagenet", str(tmp_path))
    assert (len(data.train), len(data.train_eval), len(data.test)) == (4, 4, 4)
    assert (data.num_classes, data.class_names, data.input_size) == (2, ("ant", "bee"), (224, 224))
    for dataset in (data.train, data.train_eval, data.test):
        image, label = dataset[3]
        assert image.shape == (3, 224, 224) and label == 1
    assert torch.equal(data.train_eval[0][0], data.train_eval[0][0])  # evaluation is fixed
    assert not torch.equal(data.train[0][0], data.train[0][0])  # training is augmented


def test_image_size_sets_the_crops_of_image_folders_only(tmp_path):
    _image_folders(tmp_path)
    data = load_data("imagenet", str(tmp_path), image_size=32)
    assert data.input_size == (32, 32)
    assert all(dataset[0][0].shape == (3, 32, 32) for dataset in (data.train, data.train_eval, data.test))
    config = DataConfig(name="imagenet", root=str(tmp_path), image_size=32)
    assert dataset_geometry(config) == (3, (32, 32), 2)
    with pytest.raises(DataError, match="image_size applies to imagenet only; digits images keep their size"):
        load_data("digits", image_size=32)


def _no_val(root):
    _image_folders(root, splits=("train",))


def _no_class_folders(root):
    (root / "train").mkdir()
    (root / "val").mkdir()


def _different_classes(root):
    _image_folders(root, splits=("train",))
    _image_folders(root, splits=("val",), classes=("ant", "cow"))


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (_no_val, "train/<class>/<image> and .*val is not a folder"),
        (_no_class_folders, "train/<class>/<image> and .*Couldn't find any class folder"),
        (_different_classes, "only in train: bee; only in val: cow.; both must hold the same"),
    ],
)
def test_bad_imagenet_layout_gives_one_line(tmp_path, build, expected):
    build(tmp_path)
    with pytest.raises(DataError, match=expected) as caught:
        load_data("imagenet", str(tmp_path))
    assert "\n" not in str(caught.value)


def test_the_driver_side_file_list_matches_torchvision():
    assert {
        "cifar10": cifar_expected_files(datasets.CIFAR10),
        "cifar100": cifar_expected_files(datasets.CIFAR100),
    } == CIFAR_FILES
