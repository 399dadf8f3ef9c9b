"""Whole-file reads and atomic writes under a storage path: a local folder or a pyarrow URI."""

from __future__ import annotations

import io
import os
import posixpath
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import torch

from tasray.errors import TasrayError, failure_cause


def resolve_path(path: str | Path) -> tuple[pafs.FileSystem, str]:
    """The filesystem and the path inside it of a local path or a filesystem URI."""
    text = str(path)
    if "://" not in text:
        return pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(text))
    try:
        return pafs.FileSystem.from_uri(text)
    except OSError as err:  # libhdfs missing, a bucket's region unreachable, ...
        raise TasrayError(f"cannot open results store {text}: {failure_cause(err)}") from None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        raise TasrayError(f"cannot open results store {text}: {err}") from None


def join(storage_path: str, *parts: str) -> str:
    """A path under `storage_path`, keeping a URI's scheme."""
    return posixpath.join(str(storage_path), *parts)


def write_bytes(path: str, data: bytes) -> None:
    """Write `data` to a temporary sibling, then rename it over `path` (readers never see half)."""
    filesystem, inner = resolve_path(path)
    folder = posixpath.dirname(inner)
    filesystem.create_dir(folder, recursive=True)
    temp = posixpath.join(folder, f".{uuid.uuid4().hex}.tmp")
    with filesystem.open_output_stream(temp) as stream:
        stream.write(data)
    filesystem.move(temp, inner)


def read_bytes(path: str) -> bytes | None:
    """The file's content, or None if there is no such file.

    Raises:
        TasrayError: the file cannot be read (permission denied, an unreachable store, a folder in
            its place); one line that names the file and the cause.
    """
    filesystem, inner = resolve_path(path)
    try:
        kind = filesystem.get_file_info(inner).type
        if kind == pafs.FileType.NotFound:
            return None
        if kind != pafs.FileType.File:
            raise TasrayError(f"cannot read {path}: it is a folder, not a file")
        with filesystem.open_input_stream(inner) as stream:
            return stream.read()
    except OSError as err:
        raise TasrayError(f"cannot read {path}: {failure_cause(err)}") from None


def save_object(path: str, obj: Any) -> None:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(path, buffer.getvalue())


def decode_object(data: bytes) -> Any:
    """What `save_object` wrote; raises whatever torch.load raises on damaged bytes."""
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=False)


def load_object(path: str) -> Any | None:
    data = read_bytes(path)
    return None if data is None else decode_object(data)


def delete_folder(path: str) -> None:
    """Delete the folder and everything in it; a missing folder is already deleted."""
    filesystem, inner = resolve_path(path)
    if filesystem.get_file_info(inner).type != pafs.FileType.NotFound:
        filesystem.delete_dir(inner)
