"""`data.download: true`: the driver fetches the data set once, before any worker starts.

Otherwise every Ray Train worker of every stage would download CIFAR into the same folder at the
same time. The workers then read what the driver fetched, so `data.root` must be a folder every
node sees under the same path (a shared file system), as `storage_path` must be.
"""

from __future__ import annotations

import time

from rich.console import Console

from tasray.config import Experiment
from tasray.data.catalog import load_data

DOWNLOADED = ("cifar10", "cifar100")


def download_once(exp: Experiment, console: Console) -> Experiment:
    """`exp` with `data.download` off, its data fetched here first if it was on (keys unchanged:
    they leave `download` out)."""
    if not exp.data.download or exp.data.name not in DOWNLOADED:
        return exp
    started = time.perf_counter()
    load_data(exp.data.name, exp.data.root, download=True, augment=False)
    console.print(f"data: {exp.data.name} in {exp.data.root} ({time.perf_counter() - started:.1f} s)")
    return exp.with_values({"data.download": False})
