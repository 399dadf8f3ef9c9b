"""Stage metrics as TensorBoard scalars, tagged by stage (no cluster needed)."""

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tasray.distributed.curves import StageEventFile, stage_scalars


def test_numeric_metrics_are_tagged_by_stage():
    report = {"stage": "search", "epoch": 3, "epochs": 10, "start_epoch": 0, "flop_ratio": 0.5, "tau": 2}
    assert stage_scalars(report) == {"search/flop_ratio": 0.5, "search/tau": 2.0}
    assert stage_scalars({"stage": "retrain", "top1": 91.0, "note": "x", "done": True}) == {
        "retrain/top1": 91.0
    }


def report(folder: str, stage: str, epoch: int) -> None:
    """One epoch report through a fresh callback, as a callback may be after pickling."""
    metrics = {"stage": stage, "epoch": epoch, "loss": 1.0 / (epoch + 1), "top1": 50.0 + epoch}
    StageEventFile(folder).after_report(None, [metrics], None)


def test_one_point_per_epoch_of_every_stage_in_one_folder(tmp_path):
    for epoch in range(3):
        report(str(tmp_path), "search", epoch)
    for epoch in range(2):  # the next stage starts its epochs again in the same second
        report(str(tmp_path), "retrain", epoch)
    assert len(list(tmp_path.iterdir())) == 5
    curves = EventAccumulator(str(tmp_path)).Reload()
    assert [(s.step, s.value) for s in curves.Scalars("search/top1")] == [(0, 50.0), (1, 51.0), (2, 52.0)]
    assert [(s.step, s.value) for s in curves.Scalars("retrain/top1")] == [(0, 50.0), (1, 51.0)]
    assert len(curves.Scalars("search/loss")) == 3


def test_a_running_tensorboard_reads_the_next_stage_too(tmp_path):
    live = EventAccumulator(str(tmp_path))  # reads new files named after the last one it read
    for epoch in range(3):
        report(str(tmp_path), "search", epoch)
    live.Reload()
    report(str(tmp_path), "retrain", 0)  # a stage named before "search"
    assert "retrain/top1" in live.Reload().Tags()["scalars"]


def test_event_files_reach_a_store_given_as_a_uri(tmp_path):
    report(f"file://{tmp_path}/curves", "teacher", 0)
    (written,) = (tmp_path / "curves").iterdir()
    assert written.name.startswith("events.out.tfevents.") and written.name.endswith(".teacher.00000")
    assert EventAccumulator(str(tmp_path / "curves")).Reload().Scalars("teacher/top1")[0].value == 50.0


def test_a_folder_that_cannot_be_written_skips_the_curves_not_the_run(tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    report(str(blocked / "curves"), "retrain", 2)  # must not raise: training goes on
    assert blocked.read_text() == "not a folder"
    assert "retrain epoch 2's curves not written" in caplog.text
