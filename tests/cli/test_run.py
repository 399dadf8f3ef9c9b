"""`tasray run`: bad input stops at the door; a real sweep on Ray survives a killed driver."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import ray

from tasray.cli import main
from tasray.results import read_results

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "experiments" / "quickstart.yaml"
MODEL = "name: bad\nmodel: {name: cifar_resnet20}\n"

# Each case: the file's text (storage_path is appended) and words the one-line error must contain.
MALFORMED = {
    "unknown_key": (MODEL + "serch: {epochs: 3}\n", ["unknown key 'serch'"]),
    "ratio_above_one": (MODEL + "search: {target_ratio: 1.5}\n", ["search.target_ratio = 1.5", "(0, 1]"]),
    "one_selected": (MODEL + "search: {num_selected: 1}\n", ["search.num_selected = 1", ">= 2"]),
    "missing_npz": (MODEL + "data: {name: npz, root: nowhere.npz}\n", ["nowhere.npz", "no such"]),
    "unknown_method": (MODEL + "baselines: [{method: magnitude}]\n", ["magnitude", "fixed_ratio"]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_bad_experiment_exits_2_with_one_line_and_writes_nothing(case, tmp_path, capsys):
    text, words = MALFORMED[case]
    store = tmp_path / "store"
    path = tmp_path / "bad.yaml"
    path.write_text(text + f"storage_path: {store}\n")
    before = sorted(tmp_path.iterdir())
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert all(word in err for word in words), err
    assert sorted(tmp_path.iterdir()) == before and not store.exists()
    assert not ray.is_initialized()


def test_dry_run_summarises_without_ray_or_files(tmp_path, capsys):
    store = tmp_path / "store"
    assert main(["run", str(QUICKSTART), "--dry-run", "--set", f"storage_path={store}"]) == 0
    out = capsys.readouterr().out
    assert "quickstart" in out and "trials in all" in out
    assert not store.exists() and not ray.is_initialized()
