"""One object per key under `<storage>/<folder>/<key>/<file name>`: the teacher, search and
latency-table caches.

A file that cannot be read back stops the run with one line that names it and the cause: a store
that is unreachable or refuses access is said so, and only a damaged file is named for deletion.
Redoing the work unasked is not the cache's call: a teacher can take days.
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

    def parse(self, data: bytes) -> dict[str, Any]:
        """The blob in a file's bytes (torch.save format; a subclass may use another)."""
        return storage.decode_object(data)

    def write(self, file: str, blob: dict[str, Any]) -> None:
        storage.save_object(file, blob)

    def load(self, key: str) -> T | None:
        """The cached value, or None when there is none.

        Raises:
            TasrayError: the file cannot be read (its cause named), or is damaged (named for deletion).
        """
        file = self.file(key)
        try:
            data = storage.read_bytes(file)
        except TasrayError as err:
            raise TasrayError(f"the cached {self.what}: {err}") from None
        if data is None:
            return None
        try:
            return self.decode(self.parse(data))
        except Exception as err:  # damaged bytes or content: torch.load and decode raise many kinds
            raise TasrayError(
                f"the cached {self.what} {file} is damaged ({first_line(err)}); delete it to {self.redo}"
            ) from None

    def save(self, key: str, value: T) -> None:
        self.write(self.file(key), self.encode(value))
