import torch
import torch.nn.functional as F

from tasray.data import load_data, make_loader, set_loader_epoch


def _stack(dataset):
    images, labels = zip(*(dataset[i] for i in range(len(dataset))), strict=True)
    return torch.stack(images), torch.tensor(labels)


def test_digits_shapes_classes_and_split_sizes():
    data = load_data("digits")
    assert (len(data.train), len(data.train_eval), len(data.test)) == (1437, 1437, 360)
    assert (data.num_classes, data.in_channels, data.input_size) == (10, 1, (8, 8))
    assert data.class_names == tuple("0123456789")
    image, label = data.train[0]
    assert image.shape == (1, 8, 8) and image.dtype == torch.float32
    assert isinstance(label, int)
    _, test_labels = _stack(data.test)
    assert set(test_labels.tolist()) == set(range(10))


def test_digits_train_is_standardised():
    images, _ = _stack(load_data("digits").train_eval)
    assert abs(images.mean().item()) < 1e-4
    assert abs(images.std().item() - 1) < 1e-3


def test_digits_test_split_is_stratified_and_fixed():
    first, second = load_data("digits"), load_data("digits")
    torch.manual_seed(99)  # the split must not follow the experiment's RNG
    third = load_data("digits")
    test_images, test_labels = _stack(first.test)
    for other in (second, third):
        other_images, other_labels = _stack(other.test)
        assert torch.equal(test_images, other_images) and torch.equal(test_labels, other_labels)
    counts = torch.bincount(test_labels, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # 20% of about 180 per class


def test_digits_augmentation_is_a_one_pixel_shift_never_a_flip():
    data = load_data("digits")
    normalize = data.train_eval.normalize
    changed = 0
    for index in range(200):
        augmented, label = data.train[index]
        raw = data.train.images[index]
        padded = F.pad(raw, (1, 1, 1, 1))
        shifts = [normalize(padded[:, y : y + 8, x : x + 8]) for y in range(3) for x in range(3)]
        assert any(torch.equal(augmented, shifted) for shifted in shifts)
        assert label == data.train_eval[index][1]
        changed += not torch.equal(augmented, data.train_eval[index][0])
    assert changed > 120  # 8 of the 9 offsets move the image


def test_digits_without_augmentation_train_equals_train_eval():
    data = load_data("digits", augment=False)
    assert all(torch.equal(data.train[i][0], data.train_eval[i][0]) for i in range(50))


def test_a_digits_epoch_yields_every_training_image_once():
    data = load_data("digits")
    loader = make_loader(data.train, batch_size=64, shuffle=True, seed=0)
    set_loader_epoch(loader, 0)
    labels = torch.cat([batch_labels for _, batch_labels in loader])
    assert len(labels) == 1437
    expected = torch.tensor([int(data.train[i][1]) for i in range(len(data.train))])
    assert torch.equal(labels.bincount(minlength=10), expected.bincount(minlength=10))
