"""Per-epoch stage metrics as TensorBoard curves, tagged by stage (``search/flop_ratio``,
``retrain/top1``, ``teacher/loss``), written by Ray Train's controller beside each run.

Every `RayRunner` run (the teacher's, each trial's) writes its curves to
`<storage>/_ray/<experiment>/<run>-tensorboard/`. The curves do not go through Ray Tune's
per-result logger: Ray's `TuneReportCallback` costs a queue actor per trial (a process, and a poll
every few hundred milliseconds for the trial's whole life), for what one small file per epoch does.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from ray.train import UserCallback
from tensorboardX import SummaryWriter

from tasray.io import storage

NOT_CURVES = {"epoch", "epochs", "start_epoch"}
logger = logging.getLogger(__name__)


def stage_scalars(metrics: dict[str, Any]) -> dict[str, float]:
    """The numeric values of one epoch report, keyed ``<stage>/<name>``."""
    stage = metrics.get("stage", "stage")
    return {
        f"{stage}/{name}": float(value)
        for name, value in metrics.items()
        if name not in NOT_CURVES and isinstance(value, int | float) and not isinstance(value, bool)
    }


class StageEventFile(UserCallback):
    """Ray Train callback: each epoch report as TensorBoard scalars in `logdir`, a local folder or a
    storage URI.

    Each report gets an event file of its own, written whole and closed at once: the callback
    holds no open file between reports, and a store reached through a URI takes it like any other
    file. Files are named by the time of their report, then stage and epoch: TensorBoard reads a
    folder's event files in name order and, while it runs, skips a new file named before one it has
    read. A file that cannot be written (a full store, one gone read-only) is skipped with a warning
    in the controller's log: the curves are a view of the run, and the checkpoints that matter fail
    on their own.
    """

    def __init__(self, logdir: str) -> None:
        self.logdir = logdir

    def after_report(self, run_context: Any, metrics: list[dict[str, Any]], checkpoint: Any) -> None:
        report = metrics[0]
        stage, epoch = report.get("stage", "stage"), int(report.get("epoch", 0))
        with tempfile.TemporaryDirectory(prefix="tasray-curves-") as folder:
            with SummaryWriter(folder) as writer:
                for tag, value in stage_scalars(report).items():
                    writer.add_scalar(tag, value, epoch)
            (written,) = Path(folder).iterdir()
            name = f"events.out.tfevents.{time.time_ns()}.{stage}.{epoch:05d}"  # "tfevents": TensorBoard's
            try:
                storage.write_bytes(storage.join(self.logdir, name), written.read_bytes())
            except OSError as err:
                logger.warning("%s epoch %d's curves not written to %s: %s", stage, epoch, self.logdir, err)
