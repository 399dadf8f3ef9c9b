import dataclasses

import pytest
import torch

from tasray.data import DataSplits, split_halves
from tasray.data.transforms import ChannelStats


@pytest.mark.parametrize("num_items", [0, 1, 2, 7, 1437])
def test_halves_are_disjoint_cover_everything_and_balanced(num_items):
    first, second = split_halves(num_items, seed=3)
    assert set(first).isdisjoint(second)
    assert sorted(first + second) == list(range(num_items))
    assert abs(len(first) - len(second)) <= 1


def test_halves_depend_only_on_the_seed():
    assert split_halves(1000, seed=1) == split_halves(1000, seed=1)
    assert split_halves(1000, seed=1) != split_halves(1000, seed=2)
    # Changing the global RNG must not move the split: workers must agree without syncing it.
    torch.manual_seed(123)
    assert split_halves(1000, seed=1) == split_halves(1000, seed=1)


def test_halves_are_a_random_mix_not_a_prefix():
    first, _ = split_halves(1000, seed=0)
    assert first != list(range(500))
    assert 200 < sum(index < 500 for index in first) < 300


def test_negative_count_is_refused():
    with pytest.raises(ValueError, match="num_items"):
        split_halves(-1, seed=0)


def test_data_splits_is_immutable():
    splits = DataSplits("x", [], [], [], 2, 1, (8, 8), None, ChannelStats((0.5,), (0.25,)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        splits.num_classes = 3  # type: ignore[misc]
