"""`data.download: true`: fetched once by the driver; the workers' experiment never downloads."""

import io
from pathlib import Path

from rich.console import Console

from tasray.config import load_experiment, teacher_key, trial_key
from tasray.distributed import download
from tasray.distributed.download import download_once

QUICKSTART = Path(__file__).resolve().parents[2] / "experiments" / "quickstart.yaml"


def test_the_driver_downloads_once_and_hands_the_workers_an_experiment_that_does_not(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(download, "load_data", lambda name, root, **kw: calls.append((name, root, kw)))
    console = Console(file=io.StringIO())
    exp = load_experiment(QUICKSTART, ["data.name=cifar10", f"data.root={tmp_path}", "data.download=true"])
    workers = download_once(exp, console)
    assert calls == [("cifar10", str(tmp_path), {"download": True, "augment": False})]
    assert workers.data.download is False and download_once(workers, console) is workers
    assert len(calls) == 1  # nothing fetched again
    assert (teacher_key(workers), trial_key(workers, "tas")) == (teacher_key(exp), trial_key(exp, "tas"))
    digits = load_experiment(QUICKSTART, ["data.download=true"])
    assert download_once(digits, console) is digits and len(calls) == 1  # digits ships with scikit-learn
