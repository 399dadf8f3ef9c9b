"""Live progress of a run on the driver: stage epochs from Ray Train, finished trials from Tune trials.

Ray Train calls `after_report` in its controller actor, wherever the run was launched (the driver
for the teacher, a Tune trial for the rest), so epochs travel to the driver through one small
queue actor that every `RayRunner` of the run shares.
"""

from __future__ import annotations

import threading
from typing import Any

from ray.train import UserCallback
from ray.util.queue import Queue
from rich.console import Console
from rich.progress import Progress, TaskID

from tasray.costs import COSTS
from tasray.distributed.heartbeat import Heartbeat
from tasray.distributed.pinning import on_driver_node
from tasray.plural import plural
from tasray.stages.progress import epoch_columns, metrics_text

SHOWN = ("loss", "top1", "val_top1", "cost_ratio")  # sent to the driver; τ is in the search history
END = {"kind": "end"}  # the last event: the run is over


class EpochEvents(UserCallback):
    """Ray Train callback: put one event per reported epoch on the driver's queue."""

    def __init__(self, queue: Queue, label: str) -> None:
        self.queue, self.label = queue, label

    def after_report(self, run_context: Any, metrics: list[dict[str, Any]], checkpoint: Any) -> None:
        first = metrics[0]
        shown = {k: first[k] for k in SHOWN if isinstance(first.get(k), int | float)}
        event = {
            "kind": "epoch",
            "label": self.label,
            "stage": first.get("stage", "stage"),
            "epoch": first.get("epoch", 0),
            "epochs": first.get("epochs", 0),
            "metrics": shown,
        }
        self.queue.put(event)


class ProgressView:
    """Rich bars per running stage (interactive terminals only), a line when a stage's first epoch
    is reported and when it finishes, and a line per finished trial."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.queue = Queue(actor_options=on_driver_node())
        self.progress = Progress(*epoch_columns(), console=console, disable=not console.is_terminal)
        self.tasks: dict[tuple[str, str], TaskID] = {}
        self.best: float | None = None
        self.heartbeat = Heartbeat()
        self._thread = threading.Thread(target=self._drain, daemon=True)

    def callback(self, label: str) -> EpochEvents:
        return EpochEvents(self.queue, label)

    def __enter__(self) -> ProgressView:
        self.progress.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.queue.put(END)  # queued after every event already sent: the drain shows those first
        self._thread.join()
        self.progress.stop()

    def _drain(self) -> None:
        while (event := self.queue.get())["kind"] != END["kind"]:
            if event["kind"] == "trial":
                self.trial_done(event)
            else:
                self.epoch(event)

    def epoch(self, event: dict[str, Any]) -> None:
        key = (event["label"], event["stage"])
        text = metrics_text(event["metrics"])
        done, total = event["epoch"] + 1, event["epochs"]
        if key not in self.tasks:
            description = f"{key[0]} · {key[1]}"
            self.tasks[key] = self.progress.add_task(description, total=total, metrics="")
            if done < total:  # the stage is under way, its first epoch checkpointed: say so once
                self.console.print(f"  {description}: running, epoch {done} of {total} done  {text}")
        self.progress.update(self.tasks[key], completed=done, metrics=text)
        beat = self.heartbeat.line(f"{key[0]} · {key[1]}", done, total)
        if beat and not self.console.is_terminal:  # a log file has no bars: a line now and then
            self.console.print(f"{beat}  {text}")
        if done == total:
            self.progress.remove_task(self.tasks.pop(key))
            self.console.print(f"  {key[0]} · {key[1]}: {plural(total, 'epoch')} done  {text}")

    def trial_done(self, event: dict[str, Any]) -> None:
        top1 = event["top1"]
        self.best = top1 if self.best is None else max(self.best, top1)
        done = " (finished in an earlier run)" if event["resumed"] else ""
        self.console.print(
            f"[green]✓[/green] trial {event['trial']}{done}: top-1 {top1:.2f}%  "
            f"{COSTS.get(event['cost']).label} {100 * event['cost_ratio']:.1f}%  "
            f"(best top-1 so far {self.best:.2f}%)"
        )
        if event.get("in_band") is False:
            self.console.print(
                f"[yellow]⚠ trial {event['trial']}: no search epoch ended inside the band "
                "(1 ± t)·R; kept the epoch closest to R[/yellow]"
            )
