import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tasray.data import transforms
from tasray.data.tensor_dataset import TensorImageDataset
from tasray.data.transforms import ChannelStats, ShiftFlipPolicy, augmentation, channel_stats, normalization


def _all_pad_crops(image: torch.Tensor, padding: int) -> list[torch.Tensor]:
    """Reference: every crop of the zero-padded image, as the paper's pad-and-crop would take."""
    padded = F.pad(image, (padding,) * 4)
    h, w = image.shape[-2:]
    return [
        padded[..., top : top + h, left : left + w]
        for top in range(2 * padding + 1)
        for left in range(2 * padding + 1)
    ]


def test_augmentation_draws_every_pad_and_crop_and_only_those():
    image = torch.randint(1, 255, (3, 6, 5), dtype=torch.uint8)
    shift = augmentation((6, 5), ShiftFlipPolicy(2, flip=False))
    crops = _all_pad_crops(image, padding=2)
    seen = set()
    for _ in range(600):
        out = shift(image)
        assert out.shape == image.shape and out.dtype == torch.uint8
        matches = [i for i, crop in enumerate(crops) if torch.equal(out, crop)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == set(range(len(crops)))


def test_flip_returns_the_image_or_its_mirror_both_often():
    image = torch.arange(36, dtype=torch.uint8).view(3, 3, 4)
    flip = augmentation((3, 4), ShiftFlipPolicy(0, flip=True))
    outputs = [flip(image) for _ in range(400)]
    mirrored = sum(torch.equal(out, image.flip(-1)) for out in outputs)
    assert sum(torch.equal(out, image) for out in outputs) + mirrored == 400
    assert 120 < mirrored < 280


def test_normalize_matches_formula_and_leaves_the_input_alone():
    stats = ChannelStats(mean=(0.5, 0.25), std=(0.5, 0.125))
    image = torch.full((2, 3, 3), 51, dtype=torch.uint8)  # 0.2 once scaled
    kept = image.clone()
    out = normalization(stats)(image)
    assert torch.allclose(out[0], torch.full((3, 3), -0.6)) and torch.allclose(
        out[1], torch.full((3, 3), -0.4)
    )
    assert torch.equal(image, kept)  # a view of the data set's storage must not change


def test_a_batch_holds_exactly_the_items_one_by_one():
    images = torch.randint(0, 256, (6, 3, 8, 8), dtype=torch.uint8)
    stats = ChannelStats(mean=(0.4, 0.5, 0.6), std=(0.2, 0.25, 0.3))
    dataset = TensorImageDataset(
        images, torch.arange(6), normalization(stats), augmentation((8, 8), ShiftFlipPolicy(2, True))
    )
    torch.manual_seed(3)
    batch = dataset.__getitems__([4, 1, 5])
    torch.manual_seed(3)  # the same draws, in the same order
    single = [dataset[index] for index in (4, 1, 5)]
    assert [label for _, label in batch] == [4, 1, 5] == [label for _, label in single]
    assert all(torch.equal(a, b) for (a, _), (b, _) in zip(batch, single, strict=True))


def test_channel_stats_agree_with_numpy_across_chunks(monkeypatch):
    monkeypatch.setattr(transforms, "_STATS_CHUNK", 3)
    images = torch.randint(0, 256, (10, 3, 4, 5), dtype=torch.uint8)
    stats = channel_stats(images)
    array = images.numpy().astype(np.float64) / 255.0
    assert np.allclose(stats.mean, array.mean(axis=(0, 2, 3)))
    assert np.allclose(stats.std, array.std(axis=(0, 2, 3)))


def test_constant_channel_gets_unit_std_instead_of_dividing_by_zero():
    stats = channel_stats(torch.full((4, 1, 2, 2), 51, dtype=torch.uint8))
    assert stats.mean == pytest.approx((0.2,)) and stats.std == (1.0,)
