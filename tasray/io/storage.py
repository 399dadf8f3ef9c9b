"""Whole-file reads and atomic writes under a storage path: a local folder or a pyarrow URI."""

from __future__ import annotations

import io
import posixpath
import uuid
from typing import Any

import torch

from tasray.results.store import resolve_path


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
    """The file's content, or None if there is no such file."""
    filesystem, inner = resolve_path(path)
    if filesystem.get_file_info(inner).type.name != "File":
        return None
    with filesystem.open_input_stream(inner) as stream:
        return stream.read()


def save_object(path: str, obj: Any) -> None:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(path, buffer.getvalue())


def load_object(path: str) -> Any | None:
    data = read_bytes(path)
    return None if data is None else torch.load(io.BytesIO(data), map_location="cpu", weights_only=False)
