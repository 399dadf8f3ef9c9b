"""The storage path: a known URI scheme, or a local folder this process can create and write."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tasray.errors import TasrayError

KNOWN_SCHEMES = ("file", "s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "abfss")
"""Schemes that `pyarrow.fs.FileSystem.from_uri` opens."""


def check_storage(path: str) -> None:
    """`path` can hold results: a URI of a known scheme, or a local folder that is writable.

    A local check creates and removes one empty probe folder in the nearest existing folder, so
    nothing is left behind. Remote stores are not contacted here.

    Raises:
        TasrayError: an unknown scheme, a path that is (or lies under) a file, or no write access.
    """
    if "://" in path:
        scheme = path.split("://", 1)[0].lower()
        if scheme not in KNOWN_SCHEMES:
            raise TasrayError(
                f"storage_path = {path!r}: unknown URI scheme {scheme!r}; allowed: "
                f"{', '.join(KNOWN_SCHEMES)}, or a local folder"
            )
        if scheme != "file":
            return
        path = path.split("://", 1)[1]
    check_writable_folder(path, "storage_path")


def check_writable_folder(path: str | Path, label: str) -> None:
    """`path` is a folder, or can be created as one, and files can be created in it.

    Creates and removes one empty probe folder in the nearest existing folder.

    Raises:
        TasrayError: a path that is (or lies under) a file, or no write access; `label` names it.
    """
    local = Path(path)
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
