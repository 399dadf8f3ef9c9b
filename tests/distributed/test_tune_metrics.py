"""Stage metrics as TensorBoard scalars, tagged by stage (no cluster needed)."""

from ray.train import UserCallback
from ray.tune.integration.ray_train import TuneReportCallback
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tasray.distributed.progress import EpochEvents
from tasray.distributed.tune_metrics import StageEventFile, StageMetrics, stage_scalars


def test_numeric_metrics_are_tagged_by_stage():
    report = {"stage": "search", "epoch": 3, "epochs": 10, "start_epoch": 0, "flop_ratio": 0.5, "tau": 2}
    assert stage_scalars(report) == {"search/flop_ratio": 0.5, "search/tau": 2.0}
    assert stage_scalars({"stage": "retrain", "top1": 91.0, "note": "x", "done": True}) == {
        "retrain/top1": 91.0
    }


def test_callbacks_use_rays_public_classes():
    assert issubclass(StageMetrics, TuneReportCallback) and issubclass(StageMetrics, UserCallback)
    assert issubclass(StageEventFile, UserCallback) and issubclass(EpochEvents, UserCallback)


def test_a_run_outside_tune_writes_one_point_per_epoch(tmp_path):
    for epoch in range(3):  # a fresh copy per report, as a callback may be after pickling
        StageEventFile(str(tmp_path)).after_report(
            None,
            [{"stage": "teacher", "epoch": epoch, "loss": 1.0 / (epoch + 1), "top1": 50.0 + epoch}],
            None,
        )
    curves = EventAccumulator(str(tmp_path)).Reload()
    assert [(s.step, s.value) for s in curves.Scalars("teacher/top1")] == [(0, 50.0), (1, 51.0), (2, 52.0)]
    assert len(curves.Scalars("teacher/loss")) == 3
