"""The TAS points a sweep's sampler handed out, in trial order, kept beside the Tune runs.

A sweep re-run with more trials is a new Tune run with a fresh sampler. Giving that sampler the
earlier points first (as ``points_to_evaluate``) makes its first trials the earlier ones, whose
rows are found in the store, so only the new trials train, whatever the sampler's concurrency.
"""

from __future__ import annotations

import json
from typing import Any

from tasray.io import storage


class SweepJournal:
    """A JSON list of ``{dotted path: value}`` points, rewritten whole on every new point."""

    def __init__(self, path: str) -> None:
        self.path = path

    def load(self) -> list[dict[str, Any]]:
        data = storage.read_bytes(self.path)
        return [] if data is None else json.loads(data)

    def save(self, points: list[dict[str, Any]]) -> None:
        text = json.dumps(points, indent=1, default=lambda value: value.item())  # numpy scalars
        storage.write_bytes(self.path, text.encode())
