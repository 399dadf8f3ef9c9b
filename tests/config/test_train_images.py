"""How many training images a data set has, known before any worker loads it: an image folder's
count is estimated from a few class folders, never by listing all of them."""

import os

import pytest

from tasray.config import DataConfig
from tasray.config.geometry import SAMPLED_CLASS_FOLDERS, folder_images, train_images


def image_tree(root, files_per_class):
    for index, count in enumerate(files_per_class):
        folder = root / "train" / f"n{index:04d}"
        folder.mkdir(parents=True)
        for image in range(count):
            (folder / f"{image}.jpg").write_bytes(b"")
    return root


def test_a_few_class_folders_are_counted_exactly(tmp_path):
    root = image_tree(tmp_path, [3, 5, 2])
    (root / "train" / "n0000" / "not-an-image-folder").mkdir()  # sub-folders are not images
    assert train_images(DataConfig(name="imagenet", root=str(root))) == 10


def test_many_class_folders_are_estimated_from_a_sample(tmp_path, monkeypatch):
    root = image_tree(tmp_path, [4] * 30 + [6] * 30)  # 300 images in 60 folders, half of each size
    listed = []
    scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path: listed.append(path) or scandir(path))
    estimate = folder_images(root / "train")
    # train/ itself and at most 8 class folders are listed, spread over both halves of the classes.
    assert len(listed) <= 1 + SAMPLED_CLASS_FOLDERS
    assert 240 <= estimate <= 360
    assert any(str(path).endswith("n0000") for path in listed) and any(
        int(str(path)[-4:]) >= 30 for path in listed[1:]
    )


@pytest.mark.parametrize("layout", ["missing", "empty"])
def test_an_image_folder_without_classes_has_no_count(tmp_path, layout):
    if layout == "empty":
        (tmp_path / "train").mkdir()
    assert train_images(DataConfig(name="imagenet", root=str(tmp_path))) is None
