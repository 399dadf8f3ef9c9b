"""After a run fails: was it the store? One that stopped taking writes mid-run is one line, exit 1."""

from __future__ import annotations

from tasray.config import Experiment
from tasray.errors import RunFailed, TasrayError
from tasray.io import storage
from tasray.plural import plural
from tasray.preflight.storage import check_storage
from tasray.results.files import find_trial_files


def store_failure(exp: Experiment) -> RunFailed | None:
    """The error to report if `exp`'s store no longer takes writes (probed as before the run), else None.

    The rows already written are counted (they are whole: every row is written to a temporary
    file and renamed), so the line says what a re-run will not redo.
    """
    try:
        check_storage(exp.storage_path)
        return None
    except TasrayError as err:
        cause = str(err)
    rows = storage.join(exp.storage_path, exp.name)
    try:
        written = len(find_trial_files(*storage.resolve_path(rows), rows))
    except TasrayError:
        written = 0
    return RunFailed(
        f"the store stopped taking writes during the run ({cause}); the {plural(written, 'row')} "
        f"written before are intact; make it writable and re-run the same command to resume"
    )
