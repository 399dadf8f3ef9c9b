from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from result_records import record

from tasray.costs.flops import count_flops
from tasray.errors import TasrayError
from tasray.results import store as store_module
from tasray.results.schema import SCHEMA, SCHEMA_VERSION, RecordError, TrialRecord
from tasray.results.store import ResultsStore, read_results


def test_round_trip_through_pyarrow_dataset_and_pandas(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    written = [record("t0", "tas", 0.6, 91.2), record("t1", "fixed_ratio", 0.8, 90.1)]
    for rec in written:
        store.append(rec)

    table = ds.dataset(tmp_path, format="parquet").to_table()
    assert sorted(table["trial_id"].to_pylist()) == ["t0", "t1"]
    frame = pd.read_parquet(tmp_path).set_index("trial_id")
    assert frame.loc["t0", "top1"] == pytest.approx(91.2)
    assert frame.loc["t1", "method"] == "fixed_ratio"
    assert frame.loc["t0", "flops"] == count_flops(written[0].arch)
    assert frame.loc["t0", "prune_ratio"] == pytest.approx(1 - written[0].flop_ratio)
    assert frame.loc["t0", "accuracy_drop"] == pytest.approx(92.5 - 91.2)

    rows = store.read().to_pylist()
    assert [TrialRecord.from_row(row) for row in rows] == written
    assert rows[0]["schema_version"] == SCHEMA_VERSION
    assert rows[0]["search_history"][-1]["flop_ratio"] == pytest.approx(0.36)
    assert rows[1]["search_history"] == [] and rows[1]["target_ratio"] is None


def test_one_file_per_trial_and_rewrite_replaces_the_row(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    path = store.append(record("t0", top1=80.0))
    store.append(record("t0", top1=85.0))
    assert Path(path) == tmp_path / "exp-a" / "t0.parquet"
    assert sorted(p.name for p in (tmp_path / "exp-a").iterdir()) == ["t0.parquet"]
    assert store.read()["top1"].to_pylist() == [85.0]


def test_reads_recursively_per_store_run_or_file(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.append(record("t0", experiment_id="run-1"))
    store.append(record("t1", experiment_id="run-1"))
    store.append(record("t0", experiment_id="run-2"))
    assert read_results(tmp_path).num_rows == 3
    assert read_results(tmp_path / "run-1")["trial_id"].to_pylist() == ["t0", "t1"]
    assert read_results(tmp_path / "run-2" / "t0.parquet")["experiment_id"].to_pylist() == ["run-2"]
    assert read_results(f"file://{tmp_path}").num_rows == 3


def test_missing_or_empty_store_reads_as_empty_table(tmp_path: Path) -> None:
    assert read_results(tmp_path / "nowhere").schema.equals(SCHEMA)
    assert read_results(tmp_path / "nowhere").num_rows == 0
    assert read_results(tmp_path).num_rows == 0


def test_paths_that_are_not_a_store_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(TasrayError, match="not a results store"):
        read_results(text)
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "other.parquet")
    with pytest.raises(TasrayError, match="lacks columns .*trial_id"):
        read_results(tmp_path)


def test_files_of_an_older_schema_version_still_read(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.append(record("new"))
    old_row = record("old").to_row()
    dropped = ("tolerance", "config_hash", "top5", "tasray_version")
    old_schema = pa.schema([f for f in SCHEMA if f.name not in dropped])
    old_row["schema_version"] = 0
    old_table = pa.Table.from_pylist([{k: old_row[k] for k in old_schema.names}], old_schema)
    pq.write_table(old_table, tmp_path / "exp-a" / "old.parquet")

    rows = {row["trial_id"]: row for row in read_results(tmp_path).to_pylist()}
    assert rows["old"]["schema_version"] == 0
    assert rows["old"]["tolerance"] is None and rows["old"]["config_hash"] is None
    assert rows["old"]["top1"] == rows["new"]["top1"]
    assert rows["new"]["tolerance"] == pytest.approx(0.05)


def test_files_written_with_the_old_num_samples_column_read_it_as_num_selected(tmp_path: Path) -> None:
    old_row = record("old", num_selected=3).to_row()
    old_row["schema_version"] = 4
    old_row["num_samples"] = old_row.pop("num_selected")
    old_schema = pa.schema([f.with_name("num_samples") if f.name == "num_selected" else f for f in SCHEMA])
    (tmp_path / "exp-a").mkdir()
    pq.write_table(pa.Table.from_pylist([old_row], old_schema), tmp_path / "exp-a" / "old.parquet")
    assert "num_samples" in pq.read_schema(tmp_path / "exp-a" / "old.parquet").names

    (row,) = read_results(tmp_path).to_pylist()
    assert row["num_selected"] == 3 and "num_samples" not in row


def _write_many(root: str, worker: int) -> None:
    store = ResultsStore(root)
    for index in range(5):
        store.append(record(f"w{worker}-t{index}", top1=50.0 + worker + index / 10))
        store.append(record("shared", top1=float(worker)))


def test_concurrent_writers_leave_every_row(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(8, mp_context=context) as pool:
        list(pool.map(_write_many, [str(tmp_path)] * 8, range(8)))
    table = read_results(tmp_path)
    ids = table["trial_id"].to_pylist()
    assert len(ids) == 8 * 5 + 1 and len(set(ids)) == len(ids)
    assert "shared" in ids
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch) -> None:
    store = ResultsStore(tmp_path)
    store.append(record("t0", top1=70.0))

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store_module.pq, "write_table", broken)
    with pytest.raises(OSError, match="disk full"):
        store.append(record("t0", top1=99.0))
    assert [p.name for p in (tmp_path / "exp-a").iterdir()] == ["t0.parquet"]
    assert read_results(tmp_path)["top1"].to_pylist() == [70.0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "magic"}, "allowed: bn_scale_global, .*random_search, .*tas, tas_d, tas_w, .*unpruned"),
        ({"transfer": "copy"}, "allowed: scratch, init, kd"),
        ({"trial_id": "../escape"}, "trial_id"),
        ({"top1": 120.0}, "percentages"),
        ({"search_history": [{"epoch": 0}]}, "needs the keys"),
    ],
)
def test_bad_records_are_refused(change: dict, message: str) -> None:
    with pytest.raises(RecordError, match=message.replace("(", r"\(").replace("|", r"\|")):
        record(change.pop("trial_id", "t0"), **change)


def test_in_band_is_derived_from_the_flop_ratio_and_round_trips(tmp_path: Path) -> None:
    inside = record("in", "tas", 0.7, selected_epoch=3)
    outside = record("out", "tas", 0.7, target_ratio=0.7, tolerance=0.05)
    untargeted = record("fixed", "fixed_ratio", 0.7)
    assert (inside.in_band, outside.in_band, untargeted.in_band) == (True, False, None)
    store = ResultsStore(tmp_path)
    for rec in (inside, outside, untargeted):
        store.append(rec)
    rows = {r["trial_id"]: r for r in store.read().to_pylist()}
    assert [rows[t]["in_band"] for t in ("in", "out", "fixed")] == [True, False, None]
    assert rows["in"]["selected_epoch"] == 3 and rows["fixed"]["selected_epoch"] is None
    assert TrialRecord.from_row(rows["out"]).in_band is False


def test_read_trial_gives_one_row_or_none(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    assert store.read_trial("exp-a", "t0") is None
    store.append(record("t0", top1=80.0))
    row = store.read_trial("exp-a", "t0")
    assert row is not None and row["trial_id"] == "t0" and row["top1"] == 80.0


def test_a_symlink_loop_in_the_store_is_walked_once(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.append(record("t0"))
    (tmp_path / "exp-a" / "again").symlink_to("..")  # pyarrow's listing went round 40 times
    (tmp_path / "mirror").symlink_to(tmp_path / "exp-a")  # the same folder by another name
    assert read_results(tmp_path)["trial_id"].to_pylist() == ["t0"]


def test_files_named_in_another_encoding_read(tmp_path: Path) -> None:
    folder = tmp_path / "exp-a"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), b"\xff\xfe.parquet"), "wb") as stream:
        pq.write_table(record("latin").to_table(), stream)
    assert read_results(tmp_path)["trial_id"].to_pylist() == ["latin"]


def test_files_of_other_writers_are_cast_to_the_schema(tmp_path: Path) -> None:
    row = record("t0").to_row()
    row.update(top1=91, flops=float(row["flops"]))  # an int accuracy, float FLOPs: same values
    (tmp_path / "exp-a").mkdir()
    pq.write_table(pa.Table.from_pylist([row]), tmp_path / "exp-a" / "t0.parquet")
    table = read_results(tmp_path)
    assert table.schema.equals(SCHEMA) and table["top1"].to_pylist() == [91.0]
