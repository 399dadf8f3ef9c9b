import pytest

from tasray.data import DATASETS, DataError, load_data
from tasray.errors import TasrayError


def test_every_issue_data_set_is_available():
    assert set(DATASETS) == {"digits", "cifar10", "cifar100", "imagenet", "npz"}


def test_unknown_name_lists_the_allowed_ones():
    with pytest.raises(DataError) as caught:
        load_data("mnist")
    assert str(caught.value) == (
        "unknown data set 'mnist'; allowed: cifar10, cifar100, digits, imagenet, npz"
    )
    assert isinstance(caught.value, TasrayError)  # the CLI turns it into exit status 2


def test_load_data_passes_augment_through():
    data = load_data("digits", augment=False)
    assert data.train.augment is None and data.train_eval.augment is None
