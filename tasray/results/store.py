"""The results store: a Parquet dataset with one file per finished trial, written atomically.

Layout: ``<root>/<experiment_id>/<trial_id>.parquet``. A writer writes a hidden temp file in the
trial's folder and renames it over the final name, so readers never see half a file, concurrent
writers never share a file, and a re-written trial replaces its own row. The root may be a local
path or any URI that `pyarrow.fs.FileSystem.from_uri` understands (``s3://``, ``gs://``, ...).
"""

from __future__ import annotations

import contextlib
import posixpath
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from tasray.io.storage import resolve_path
from tasray.results.files import SUFFIX, find_trial_files, read_trial_file
from tasray.results.schema import SCHEMA, TrialRecord


class ResultsStore:
    """A folder (or bucket prefix) of trial files; `append` writes one, `read_trial` reads one and
    `read` reads them all."""

    def __init__(self, root: str | Path) -> None:
        self.root = str(root)
        self.filesystem, self.path = resolve_path(root)

    def trial_path(self, experiment_id: str, trial_id: str) -> str:
        """Where the file of a trial lives, inside `self.filesystem`."""
        return posixpath.join(self.path, experiment_id, trial_id + SUFFIX)

    def append(self, record: TrialRecord) -> str:
        """Write `record` as its trial's file (replacing an older one); returns the file's path."""
        final = self.trial_path(record.experiment_id, record.trial_id)
        folder = posixpath.dirname(final)
        temp = posixpath.join(folder, f".{record.trial_id}.{uuid.uuid4().hex}.tmp")
        table = record.to_table()
        self.filesystem.create_dir(folder, recursive=True)
        try:
            with self.filesystem.open_output_stream(temp) as stream:
                pq.write_table(table, stream)
            self.filesystem.move(temp, final)
        except BaseException:
            _delete_quietly(self.filesystem, temp)
            raise
        return final

    def read_trial(self, experiment_id: str, trial_id: str) -> dict[str, Any] | None:
        """The row of one trial, or None when the trial has no file yet."""
        path = self.trial_path(experiment_id, trial_id)
        if self.filesystem.get_file_info(path).type != pafs.FileType.File:
            return None
        return read_trial_file(self.filesystem, path).to_pylist()[0]

    def read(self) -> pa.Table:
        """Every row of the store (an empty table with `SCHEMA` if there are none)."""
        return read_results(self.root)


def read_results(path: str | Path) -> pa.Table:
    """Every trial file found recursively under `path` (a store, one run of it, or one file).

    A missing or empty folder gives an empty table; a path that is not a results store, or a file
    whose rows do not fit the schema, raises `TasrayError` (`tasray.results.files`). Rows are
    sorted by experiment and trial id.
    """
    filesystem, root = resolve_path(path)
    files = find_trial_files(filesystem, root, str(path))
    if not files:
        return SCHEMA.empty_table()
    table = pa.concat_tables([read_trial_file(filesystem, file) for file in files])
    return table.sort_by([("experiment_id", "ascending"), ("trial_id", "ascending")])


def _delete_quietly(filesystem: pafs.FileSystem, path: str) -> None:
    with contextlib.suppress(OSError):  # the temp file may never have been created
        filesystem.delete_file(path)
