"""The re-run's line on what an earlier run left finished."""

from pathlib import Path

from tasray.config import load_experiment
from tasray.distributed.resume import found_finished

QUICKSTART = Path(__file__).resolve().parents[2] / "experiments" / "quickstart.yaml"


def test_a_rerun_names_the_teacher_and_the_rows_it_found(tmp_path):
    exp = load_experiment(QUICKSTART, [f"storage_path={tmp_path}"])
    assert found_finished(exp, teacher_cached=False) is None  # a first run says nothing
    assert found_finished(exp, teacher_cached=True).startswith("found from an earlier run: the teacher;")
    rows = tmp_path / "quickstart"
    rows.mkdir()
    for trial in ["tas-000", "fixed_ratio-0-kd"]:
        (rows / f"{trial}.parquet").write_bytes(b"")
    (rows / ".tas-001.tmp").write_bytes(b"")  # a half-written row is not a finished one
    line = found_finished(exp, teacher_cached=True)
    assert line.startswith("found from an earlier run: the teacher and 2 rows (fixed_ratio-0-kd, tas-000);")
