"""Data sets (digits, CIFAR-10/100, ImageNet folders, npz arrays), transforms, splits, loaders."""

from tasray.data.catalog import DATASETS, load_data
from tasray.data.errors import DataError
from tasray.data.loaders import LoaderOptions, make_loader, set_loader_epoch
from tasray.data.splits import DataSplits, split_halves

__all__ = [
    "DATASETS",
    "DataError",
    "DataSplits",
    "LoaderOptions",
    "load_data",
    "make_loader",
    "set_loader_epoch",
    "split_halves",
]
