import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tasray.data import transforms
from tasray.data.transforms import (
    ChannelStats,
    RandomHorizontalFlip,
    RandomShift,
    ScaleAndNormalize,
    ShiftFlipPolicy,
    channel_stats,
    tensor_transforms,
)


def _all_pad_crops(image: torch.Tensor, padding: int) -> list[torch.Tensor]:
    """Reference: every crop of the zero-padded image, as torchvision's RandomCrop would take."""
    padded = F.pad(image, (padding,) * 4)
    h, w = image.shape[-2:]
    return [
        padded[..., top : top + h, left : left + w]
        for top in range(2 * padding + 1)
        for left in range(2 * padding + 1)
    ]


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_random_shift_draws_every_pad_and_crop_and_only_those(dtype):
    image = torch.randint(1, 255, (3, 6, 5)).to(dtype)
    crops = _all_pad_crops(image, padding=2)
    seen = set()
    shift = RandomShift(2)
    for _ in range(600):
        out = shift(image)
        assert out.shape == image.shape and out.dtype == dtype
        matches = [i for i, crop in enumerate(crops) if torch.equal(out, crop)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == set(range(len(crops)))


def test_flip_returns_the_image_or_its_mirror_both_often():
    image = torch.arange(12.0).view(1, 3, 4)
    flipped = [torch.equal(RandomHorizontalFlip()(image), image.flip(-1)) for _ in range(400)]
    assert 120 < sum(flipped) < 280


def test_normalize_matches_formula_and_leaves_the_input_alone():
    stats = ChannelStats(mean=(0.5, 0.25), std=(0.5, 0.125))
    image = torch.full((2, 3, 3), 8.0)
    kept = image.clone()
    out = ScaleAndNormalize(stats, scale=16.0)(image)
    assert torch.allclose(out[0], torch.zeros(3, 3))
    assert torch.allclose(out[1], torch.full((3, 3), 2.0))
    assert torch.equal(image, kept)  # a view of the data set's storage must not change


def test_channel_stats_agree_with_numpy_across_chunks(monkeypatch):
    monkeypatch.setattr(transforms, "_STATS_CHUNK", 3)
    images = torch.randint(0, 256, (10, 3, 4, 5), dtype=torch.uint8)
    stats = channel_stats(images, scale=255.0)
    array = images.numpy().astype(np.float64) / 255.0
    assert np.allclose(stats.mean, array.mean(axis=(0, 2, 3)))
    assert np.allclose(stats.std, array.std(axis=(0, 2, 3)))


def test_constant_channel_gets_unit_std_instead_of_dividing_by_zero():
    stats = channel_stats(torch.full((4, 1, 2, 2), 7, dtype=torch.uint8), scale=1.0)
    assert stats.mean == (7.0,) and stats.std == (1.0,)


def test_without_augmentation_train_and_eval_are_the_same_transform():
    stats = ChannelStats(mean=(0.0,), std=(1.0,))
    train, evaluate = tensor_transforms(stats, 1.0, ShiftFlipPolicy(4, True), augment=False)
    image = torch.rand(1, 8, 8)
    assert all(torch.equal(train(image), evaluate(image)) for _ in range(20))
