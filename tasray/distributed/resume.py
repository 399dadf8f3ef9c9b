"""On a re-run, one line saying what an earlier run of the experiment left finished."""

from __future__ import annotations

import posixpath

from tasray.config import Experiment
from tasray.io import storage
from tasray.plural import plural
from tasray.results.files import SUFFIX, find_trial_files

SHOWN_TRIALS = 6


def found_finished(exp: Experiment, teacher_cached: bool) -> str | None:
    """``found from an earlier run: the teacher and 2 rows (fixed_ratio-0-kd, tas-000); …``, or
    None when nothing was found (a first run)."""
    rows = storage.join(exp.storage_path, exp.name)
    trials = sorted(
        posixpath.basename(path).removesuffix(SUFFIX)
        for path in find_trial_files(*storage.resolve_path(rows), rows)
    )
    found = ["the teacher"] if teacher_cached else []
    if trials:
        more = ", …" if len(trials) > SHOWN_TRIALS else ""
        found.append(f"{plural(len(trials), 'row')} ({', '.join(trials[:SHOWN_TRIALS])}{more})")
    if not found:
        return None
    return (
        f"found from an earlier run: {' and '.join(found)}; a row whose trial key still matches is kept, "
        "unfinished stages resume from their checkpoints"
    )
