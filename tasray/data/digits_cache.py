"""scikit-learn's digits and their stratified split, kept in a per-user cache file.

Importing scikit-learn's loader and splitter takes 1.5–3 s of CPU, paid by every Ray worker that
trains on digits (the quickstart starts five); reading the cached arrays takes milliseconds. The
cache is keyed by scikit-learn's version, written atomically, and rebuilt when unreadable; where
it cannot be written (a read-only home) every load splits again.
"""

from __future__ import annotations

import os
import zipfile
from importlib.metadata import version
from pathlib import Path

import numpy as np

CACHE_ENV = "TASRAY_CACHE"
ARRAYS = ("images", "labels", "train_index", "test_index", "class_names")


def cache_folder() -> Path:
    """`$TASRAY_CACHE`, else `$XDG_CACHE_HOME/tasray`, else `~/.cache/tasray`."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tasray"


def digits_arrays(test_fraction: float, split_seed: int) -> dict[str, np.ndarray]:
    """The 1,797 images (uint8 levels 0..16, N×8×8), labels, class names and the stratified
    train/test indices scikit-learn's `train_test_split` gives for `test_fraction` and `split_seed`."""
    name = f"digits-sklearn-{version('scikit-learn')}-{test_fraction}-{split_seed}.npz"
    try:
        path = cache_folder() / name
    except RuntimeError:  # no home folder to cache in
        return _split_with_sklearn(test_fraction, split_seed)
    cached = _read(path)
    if cached is not None:
        return cached
    arrays = _split_with_sklearn(test_fraction, split_seed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(partial, "wb") as stream:
            np.savez(stream, **arrays)
        os.replace(partial, path)
    except OSError:
        pass  # no writable cache: the next load splits again
    return arrays


def _read(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in ARRAYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # missing or damaged: rebuilt
    consistent = arrays["images"].shape[1:] == (8, 8) and len(arrays["images"]) == len(arrays["labels"])
    indices = np.concatenate([arrays["train_index"], arrays["test_index"]])
    if not consistent or sorted(indices.tolist()) != list(range(len(arrays["labels"]))):
        return None
    return arrays


def _split_with_sklearn(test_fraction: float, split_seed: int) -> dict[str, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    train_index, test_index = train_test_split(
        np.arange(len(bunch.target)), test_size=test_fraction, random_state=split_seed, stratify=bunch.target
    )
    return {
        "images": bunch.images.astype(np.uint8),
        "labels": bunch.target.astype(np.int64),
        "train_index": train_index,
        "test_index": test_index,
        "class_names": np.asarray([str(name) for name in bunch.target_names]),
    }
