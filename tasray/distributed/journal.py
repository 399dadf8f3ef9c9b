"""The TAS points a sweep's sampler handed out, in trial order, kept beside the Tune runs.

A sweep re-run with more trials is a new Tune run with a fresh sampler. Giving that sampler the
earlier points first (as ``points_to_evaluate``) makes its first trials the earlier ones, whose
rows are found in the store, so only the new trials train, whatever the sampler's concurrency.
"""

from __future__ import annotations

import json
from typing import Any

from tasray.errors import TasrayError
from tasray.io import storage

REDO = "delete it, and a resized sweep samples its points afresh"


class SweepJournal:
    """A JSON list of ``{dotted path: value}`` points, rewritten whole on every new point."""

    def __init__(self, path: str) -> None:
        self.path = path

    def load(self) -> list[dict[str, Any]]:
        """The recorded points ([] before the first).

        Raises:
            TasrayError: the file cannot be read (its cause named), or is not a list of points.
        """
        try:
            data = storage.read_bytes(self.path)
        except TasrayError as err:
            raise TasrayError(f"the sweep journal: {err}") from None
        if data is None:
            return []
        try:
            points = json.loads(data)
        except (UnicodeDecodeError, ValueError) as err:  # JSONDecodeError is a ValueError
            raise self.damaged(f"not JSON: {err}") from None
        if not isinstance(points, list) or not all(is_point(p) for p in points):
            raise self.damaged("expected a list of {dotted path: value} points")
        return points

    def damaged(self, why: str) -> TasrayError:
        """The error for a journal that was read but holds something else than points."""
        return TasrayError(f"the sweep journal {self.path} is damaged ({why}); {REDO}")

    def save(self, points: list[dict[str, Any]]) -> None:
        text = json.dumps(points, indent=1, default=lambda value: value.item())  # numpy scalars
        storage.write_bytes(self.path, text.encode())


def is_point(value: Any) -> bool:
    """A mapping of dotted paths to values (whether they fit the experiment is the config's to say)."""
    return isinstance(value, dict) and all(isinstance(key, str) for key in value)
