"""Trial files as found in a store that other tools may write too: found once each, read defensively.

A file is read whole and fitted to `SCHEMA` column by column (a column an older file lacks reads
as null, a column it has under an old name reads under the new one); a column of the wrong type, a
missing value where the schema needs one, a non-finite accuracy or FLOP ratio, or an ArchSpec that
does not parse stops the command with one line naming the file (and the trial). On a local disk
every real folder is walked once, so a symlink loop is not followed round, and files are read by
Python, so a name that is not UTF-8 reads too.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from tasray.errors import TasrayError, failure_cause
from tasray.results.schema import RENAMED, SCHEMA
from tasray.spec.arch import ArchSpec

SUFFIX = ".parquet"
HIDDEN = (".", "_")  # temp files and tasray's own folders; Parquet readers skip them too
FINITE_COLUMNS = ("flop_ratio", "prune_ratio", "top1")  # the leaderboard buckets and ranks by these


def find_trial_files(filesystem: pafs.FileSystem, root: str, shown: str) -> list[str]:
    """Paths of the trial files under `root`, each once; `shown` names `root` in errors."""
    try:
        info = filesystem.get_file_info(root)
    except OSError as err:
        raise TasrayError(f"cannot read results under {shown}: {failure_cause(err)}") from None
    if info.type == pafs.FileType.NotFound:
        return []
    if info.type == pafs.FileType.File:
        if not root.endswith(SUFFIX):
            raise TasrayError(
                f"not a results store: {shown} is a file; expected a folder of trial "
                f"{SUFFIX} files or one such file"
            )
        return [root]
    if isinstance(filesystem, pafs.LocalFileSystem):
        return sorted(local_trial_files(root))
    try:
        entries = filesystem.get_file_info(pafs.FileSelector(root, recursive=True))
    except OSError as err:
        raise TasrayError(f"cannot read results under {shown}: {failure_cause(err)}") from None
    return sorted(
        entry.path
        for entry in entries
        if entry.type == pafs.FileType.File
        and entry.base_name.endswith(SUFFIX)
        and not any(part.startswith(HIDDEN) for part in entry.path[len(root) :].split("/"))
    )


def local_trial_files(root: str) -> list[str]:
    """Trial files under a local folder, following symlinks but entering each real folder and
    taking each real file once (a loop would otherwise repeat its rows until the OS says stop)."""
    found, seen, todo = [], set(), [root]
    while todo:
        folder = todo.pop()
        try:
            identity = os.stat(folder)
            if (identity.st_dev, identity.st_ino) in seen:
                continue
            seen.add((identity.st_dev, identity.st_ino))
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as err:
            raise TasrayError(f"cannot read results in {folder}: {failure_cause(err)}") from None
        for entry in entries:
            if entry.name.startswith(HIDDEN):
                continue
            if entry.is_dir():
                todo.append(entry.path)
            elif entry.is_file() and entry.name.endswith(SUFFIX):
                status = entry.stat()
                if (status.st_dev, status.st_ino) not in seen:
                    seen.add((status.st_dev, status.st_ino))
                    found.append(entry.path)
    return found


def read_trial_file(filesystem: pafs.FileSystem, file: str) -> pa.Table:
    """The rows of one trial file, with exactly `SCHEMA`.

    Raises:
        TasrayError: an unreadable file, or rows that do not fit the schema; one line naming it.
    """
    try:
        if isinstance(filesystem, pafs.LocalFileSystem):
            table = pq.read_table(pa.BufferReader(arrow_owned(Path(file).read_bytes())))
        else:
            with filesystem.open_input_file(file) as handle:
                table = pq.read_table(handle)
    except pa.ArrowException as err:
        raise TasrayError(f"not a results file: {file} ({' '.join(str(err).split())[:200]})") from None
    except OSError as err:
        raise TasrayError(f"cannot read {file}: {failure_cause(err)}") from None
    table = fit_schema(table, file)
    check_rows(table, file)
    return table


def arrow_owned(data: bytes) -> pa.Buffer:
    """`data` copied into Arrow's memory. Parquet's reader finishes on Arrow's threads; a buffer
    that a Python object owns would be released there after the interpreter has begun to exit,
    which aborts the process ("terminate called without an active exception")."""
    stream = pa.BufferOutputStream()
    stream.write(data)
    return stream.getvalue()


def fit_schema(table: pa.Table, file: str) -> pa.Table:
    """`table` cast column by column to `SCHEMA`; columns it lacks (older versions) are null."""
    table = table.rename_columns(
        [name if name in SCHEMA.names else RENAMED.get(name, name) for name in table.column_names]
    )
    missing = [f.name for f in SCHEMA if not f.nullable and f.name not in table.column_names]
    if missing:
        raise TasrayError(f"not a tasray results file: {file} lacks columns {', '.join(missing)}")
    columns = []
    for field in SCHEMA:
        if field.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, field.type))
            continue
        column = table.column(field.name)
        try:  # timestamps of finer units (pandas writes ns) are cut to microseconds
            column = pc.cast(column, field.type, safe=not pa.types.is_timestamp(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            raise TasrayError(
                f"{file}: column {field.name} holds {column.type}; tasray results need {field.type}"
            ) from None
        if not field.nullable and column.null_count:
            raise TasrayError(
                f"{file}: column {field.name} is null in {column.null_count} row(s); it needs a value"
            )
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def check_rows(table: pa.Table, file: str) -> None:
    """Every row's ArchSpec parses, its accuracy and FLOP ratio are finite numbers, and its search
    history has no missing epochs (a null field inside an epoch is only a gap in a curve)."""
    for row in table.select(["trial_id", "arch", "search_history", *FINITE_COLUMNS]).to_pylist():
        where = f"{file} (trial {row['trial_id']})"
        for name in FINITE_COLUMNS:
            if not math.isfinite(row[name]):
                raise TasrayError(f"{where}: {name} = {row[name]}; it must be a finite number")
        if None in row["search_history"]:
            raise TasrayError(f"{where}: search_history has a null entry; each epoch needs its values")
        try:
            ArchSpec.from_json(row["arch"])
        except TasrayError as err:
            raise TasrayError(f"{where}: arch: {err}") from None
