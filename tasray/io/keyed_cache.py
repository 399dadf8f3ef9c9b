"""One object per key under `<storage>/<folder>/<key>/<file name>`: the teacher, search and
latency-table caches.

A file that cannot be read back stops the run with one line that names it. Redoing the work
unasked is not the cache's call: a teacher can take days.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from tasray.errors import TasrayError
from tasray.io import storage
from tasray.preflight.checkpoint import first_line

T = TypeVar("T")


class KeyedCache(Generic[T]):
    """Subclasses name what they hold, its folder and file, and the work a deletion redoes, and
    (de)serialise it."""

    what: ClassVar[str]  # e.g. "teacher"
    folder: ClassVar[str]
    file_name: ClassVar[str]
    redo: ClassVar[str]  # e.g. "train the teacher again"

    def __init__(self, storage_path: str) -> None:
        self.storage_path = storage_path

    def file(self, key: str) -> str:
        return storage.join(self.storage_path, self.folder, key, self.file_name)

    def encode(self, value: T) -> dict[str, Any]:
        raise NotImplementedError

    def decode(self, blob: dict[str, Any]) -> T:
        raise NotImplementedError

    def read(self, file: str) -> dict[str, Any] | None:
        """The stored blob, or None without a file (torch.save format; a subclass may use another)."""
        return storage.load_object(file)

    def write(self, file: str, blob: dict[str, Any]) -> None:
        storage.save_object(file, blob)

    def load(self, key: str) -> T | None:
        file = self.file(key)
        try:
            blob = self.read(file)
            return None if blob is None else self.decode(blob)
        except Exception as err:  # a damaged file
            raise TasrayError(
                f"the cached {self.what} {file} is unreadable ({first_line(err)}); delete it to {self.redo}"
            ) from None

    def save(self, key: str, value: T) -> None:
        self.write(self.file(key), self.encode(value))
