"""A quiet rich progress bar over a stage's epochs, shown only on an interactive main process."""

from __future__ import annotations

import sys

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tasray.stages.runtime import is_main_process

SHOWN = ("loss", "top1", "val_top1", "cost_ratio", "tau")


def metrics_text(metrics: dict[str, float]) -> str:
    """The SHOWN metrics that `metrics` has, as `name value` pairs for a progress line."""
    return "  ".join(f"{k} {metrics[k]:.3g}" for k in SHOWN if k in metrics)


def epoch_columns() -> tuple:
    """Name, bar, epochs done/total, elapsed time, latest metrics."""
    return (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[metrics]}"),
    )


class EpochProgress:
    def __init__(self, name: str, total: int, done: int, enabled: bool | None = None) -> None:
        self.enabled = (sys.stderr.isatty() and is_main_process()) if enabled is None else enabled
        self.name, self.total, self.done = name, total, done
        self.progress: Progress | None = None

    def __enter__(self) -> EpochProgress:
        if self.enabled:
            self.progress = Progress(*epoch_columns(), transient=False)
            self.progress.start()
            self.task = self.progress.add_task(self.name, total=self.total, completed=self.done, metrics="")
        return self

    def advance(self, metrics: dict[str, float]) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=1, metrics=metrics_text(metrics))

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()
