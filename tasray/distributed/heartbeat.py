"""Heartbeat lines for output that is not a terminal (a log file): epoch k/n, elapsed, ETA.

A terminal has live bars; a log file would otherwise see nothing between a stage's first epoch
and its end. At most one line per stage every `EVERY_SECONDS`, so a log stays readable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

EVERY_SECONDS = 30.0


def duration(seconds: float) -> str:
    """``42 s``, ``6 min 05 s`` or ``2 h 03 min``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


@dataclass
class StageClock:
    started: float
    first_done: int
    printed: float


class Heartbeat:
    """Decides, per epoch event of a stage, whether to print a heartbeat line, and words it."""

    def __init__(self, every: float = EVERY_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.every, self.clock = every, clock
        self.stages: dict[str, StageClock] = {}

    def line(self, name: str, done: int, total: int) -> str | None:
        """A line for stage `name` with `done` of `total` epochs done, or None if one was printed
        less than `every` seconds ago (the first event only starts the stage's clock)."""
        now = self.clock()
        stage = self.stages.setdefault(name, StageClock(now, done, now))
        if done >= total:
            self.stages.pop(name)
            return None
        if now - stage.printed < self.every:
            return None
        stage.printed = now
        elapsed = now - stage.started
        rate = (done - stage.first_done) / elapsed if elapsed > 0 else 0.0
        eta = f"ETA {duration((total - done) / rate)}" if rate > 0 else "ETA unknown"
        return f"  {name}: epoch {done} of {total}, {duration(elapsed)} elapsed, {eta}"
