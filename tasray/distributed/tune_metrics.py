"""Per-epoch stage metrics as TensorBoard curves, tagged by stage (``search/flop_ratio``,
``retrain/top1``, ``teacher/loss``).

Inside a Tune trial, `StageMetrics` is Ray's own `TuneReportCallback` on the trial's
TorchTrainers: every epoch report becomes a Tune result, which Tune's TensorBoard logger writes
under the trial's folder. The teacher trains on the driver, outside Tune, so `StageEventFile`
writes its curves to an event file beside its Ray Train run.
"""

from __future__ import annotations

from typing import Any

from ray.train import UserCallback
from ray.tune.integration.ray_train import TuneReportCallback
from tensorboardX import SummaryWriter

NOT_CURVES = {"epoch", "epochs", "start_epoch"}


def stage_scalars(metrics: dict[str, Any]) -> dict[str, float]:
    """The numeric values of one epoch report, keyed ``<stage>/<name>``."""
    stage = metrics.get("stage", "stage")
    return {
        f"{stage}/{name}": float(value)
        for name, value in metrics.items()
        if name not in NOT_CURVES and isinstance(value, int | float) and not isinstance(value, bool)
    }


class StageMetrics(TuneReportCallback):
    """Ray Train callback (build it inside a Tune trial): each epoch report as a Tune result."""

    def after_report(self, run_context: Any, metrics: list[dict[str, Any]], checkpoint: Any) -> None:
        super().after_report(run_context, [stage_scalars(metrics[0])], None)


class StageEventFile(UserCallback):
    """Ray Train callback for runs outside Tune: each epoch report as TensorBoard scalars in `logdir`.

    Each report gets an event file of its own (suffixed by its epoch), written and closed at once:
    the callback holds no open file between reports.
    """

    def __init__(self, logdir: str) -> None:
        self.logdir = logdir

    def after_report(self, run_context: Any, metrics: list[dict[str, Any]], checkpoint: Any) -> None:
        epoch = int(metrics[0].get("epoch", 0))
        with SummaryWriter(self.logdir, filename_suffix=f".epoch{epoch:05d}") as writer:
            for tag, value in stage_scalars(metrics[0]).items():
                writer.add_scalar(tag, value, epoch)
