"""The one error type for bad data input (a path, a file's contents, a data set name)."""

from tasray.errors import TasrayError


class DataError(TasrayError):
    """A data set cannot be loaded; the one-line message names the problem and what is allowed."""
