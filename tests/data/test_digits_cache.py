"""The digits cache gives exactly scikit-learn's images and split, and survives a damaged or
unwritable cache."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits as sklearn_digits
from sklearn.model_selection import train_test_split

from tasray.data import load_data
from tasray.data.digits import SPLIT_SEED, TEST_FRACTION
from tasray.data.digits_cache import CACHE_ENV, cache_folder, digits_arrays


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def sklearn_split():
    bunch = sklearn_digits()
    train, test = train_test_split(
        range(len(bunch.target)), test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=bunch.target
    )
    return bunch, train, test


def test_cached_and_fresh_loads_equal_scikit_learns_split(cache):
    bunch, train, test = sklearn_split()
    first = load_data("digits", augment=False)  # splits with scikit-learn and writes the cache
    (written,) = cache.glob("digits-*.npz")
    second = load_data("digits", augment=False)  # reads it
    images = torch.as_tensor(bunch.images, dtype=torch.uint8).unsqueeze(1)
    for data in (first, second):
        assert torch.equal(data.train.images, images[train]) and torch.equal(data.test.images, images[test])
        assert torch.equal(data.test.labels, torch.as_tensor(bunch.target)[test])
        assert data.class_names == tuple(str(n) for n in bunch.target_names)
    assert written == next(cache.glob("digits-*.npz"))


def test_a_damaged_cache_is_rebuilt_and_an_unwritable_one_is_skipped(cache, tmp_path, monkeypatch):
    expected = digits_arrays(TEST_FRACTION, SPLIT_SEED)
    (path,) = cache.glob("digits-*.npz")
    path.write_bytes(path.read_bytes()[:500])  # truncated
    rebuilt = digits_arrays(TEST_FRACTION, SPLIT_SEED)
    assert all(np.array_equal(rebuilt[k], expected[k]) for k in expected)
    assert np.load(path)["test_index"].tolist() == expected["test_index"].tolist()  # rewritten whole

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocked / "cache"))
    assert cache_folder() == blocked / "cache"
    arrays = digits_arrays(TEST_FRACTION, SPLIT_SEED)
    assert np.array_equal(arrays["train_index"], expected["train_index"])
