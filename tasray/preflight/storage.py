"""The storage path: a store pyarrow opens and this process can write, checked before Ray starts.

A URI is opened with pyarrow (the library every reader and writer of the store uses) and a probe
file is written to it and deleted; a local folder (or ``file:///``) gets a probe folder in the
nearest existing folder. Either way nothing is left behind, and a store that does not answer
within `PROBE_TIMEOUT_S` is called unreachable instead of hanging the command.
"""

from __future__ import annotations

import errno
import os
import posixpath
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs

from tasray.errors import TasrayError, failure_cause
from tasray.preflight.checkpoint import first_line

KNOWN_SCHEMES = ("file", "s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "abfss")
"""Schemes that `pyarrow.fs.FileSystem.from_uri` opens."""
PROBE_TIMEOUT_S = 20.0
"""Seconds a remote store has to answer the probe."""
STORE_FORMS = "a local folder, file:///absolute/path, or a URI such as s3://bucket/prefix"


def check_storage(path: str, folders: tuple[str, ...] = ()) -> None:
    """`path` can hold results: pyarrow opens it, it is (or can become) a folder, files can be written.

    Args:
        path: the storage path, a local folder or a URI.
        folders: folders under `path` the run writes into; each must be a folder or absent.

    Raises:
        TasrayError: one line naming the path and the problem (an unknown scheme, a URI pyarrow
            cannot open, a file or symlink loop in the way, permission denied, unreachable).
    """
    label = f"storage_path = {path!r}"
    if "://" not in path:
        check_writable_folder(path, "storage_path")
        check_folders(pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(path)), folders, label)
        return
    scheme = path.split("://", 1)[0].lower()
    if scheme not in KNOWN_SCHEMES:
        raise TasrayError(
            f"{label}: unknown URI scheme {scheme!r}; allowed: {', '.join(KNOWN_SCHEMES)}, or a local folder"
        )
    if scheme == "file":
        filesystem, inner = open_store(path, label)
        check_writable_folder(inner, "storage_path")
        check_folders(filesystem, inner, folders, label)
        return
    # Opening an S3 URI already asks the network (for the bucket's region).
    within_deadline(lambda: probe_remote(*open_store(path, label), folders, label), label)


def open_store(path: str, label: str) -> tuple[pafs.FileSystem, str]:
    """pyarrow's filesystem of a storage URI, and the path inside it."""
    try:
        return pafs.FileSystem.from_uri(path)
    except OSError as err:  # libhdfs missing, a bucket's region unreachable, ...
        raise TasrayError(f"{label}: pyarrow cannot open it: {failure_cause(err)}") from None
    except (pa.ArrowException, ValueError) as err:
        raise TasrayError(f"{label}: pyarrow cannot open it ({first_line(err)}); use {STORE_FORMS}") from None


def probe_remote(filesystem: pafs.FileSystem, root: str, folders: tuple[str, ...], label: str) -> None:
    """Write an empty probe file under `root` and delete it; `root` and `folders` must not be files."""
    try:
        check_folders(filesystem, root, ("", *folders), label)
        probe = posixpath.join(root, f".tasray-write-check-{uuid.uuid4().hex}")
        with filesystem.open_output_stream(probe) as stream:
            stream.write(b"")
        filesystem.delete_file(probe)
    except OSError as err:
        raise TasrayError(f"{label}: cannot write to it: {failure_cause(err)}") from None


def check_folders(filesystem: pafs.FileSystem, root: str, folders: tuple[str, ...], label: str) -> None:
    """Each of `folders` under `root` is a folder or absent, not a file."""
    for folder in folders:
        path = posixpath.join(root, folder) if folder else root
        if filesystem.get_file_info(path).type == pafs.FileType.File:
            where = "it is a file" if not folder else f"{folder} under it is a file"
            raise TasrayError(f"{label}: {where}; the run needs a folder there")


def within_deadline(action: Callable[[], None], label: str, seconds: float = PROBE_TIMEOUT_S) -> None:
    """Run `action` in a daemon thread; a store that has not answered after `seconds` is unreachable."""
    failure: list[BaseException] = []

    def attempt() -> None:
        try:
            action()
        except BaseException as err:  # raised again in the calling thread
            failure.append(err)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TasrayError(f"{label}: the store is unreachable (no answer within {seconds:g} s)")
    if failure:
        raise failure[0]


def check_writable_folder(path: str | Path, label: str) -> None:
    """`path` is a folder, or can be created as one, and files can be created in it.

    Creates and removes one empty probe folder in the nearest existing folder.

    Raises:
        TasrayError: a path that is (or lies under) a file or a symlink that leads nowhere, or no
            write access; `label` names it.
    """
    local = Path(path)
    for part in (local, *local.parents):
        if part.is_symlink() and not part.exists():
            what = broken_link(part)
            raise TasrayError(f"{label} = {str(local)!r}: {part} is {what}; it must lead to a folder")
    existing = next(p for p in (local, *local.parents) if p.exists() or p == p.parent)
    if not existing.is_dir():
        where = "is a file" if existing == local else f"lies under {existing}, which is a file"
        raise TasrayError(f"{label} = {str(local)!r} {where}; it must be a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".tasray-write-check-", dir=existing))
    except OSError as err:
        raise TasrayError(
            f"{label} = {str(local)!r}: cannot create files in {existing} ({err.strerror})"
        ) from None


def broken_link(link: Path) -> str:
    """What is wrong with a symlink whose target cannot be reached: a loop, or a missing target."""
    try:
        link.stat()
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "a symlink loop"
    return f"a symlink to {os.readlink(link)}, which does not exist"
