"""User-facing errors: the CLI prints their one-line message and exits with status 2."""

from __future__ import annotations

DENIED_MARKS = ("ACCESS_DENIED", "AccessDenied", "Access Denied", "INVALID_ACCESS_KEY_ID", "Forbidden")
NETWORK_MARKS = ("NETWORK_CONNECTION", "Could not connect", "Couldn't resolve", "curlCode", "timed out")
"""How pyarrow's remote filesystems (S3, GCS, Azure) word a refusal or an unreachable store."""


class TasrayError(Exception):
    """Bad input from the user (a file, a flag, a config value). The message is one line."""


class RunFailed(TasrayError):
    """A run that started could not finish for a cause outside tasray (the store stopped taking
    writes): one line, exit status 1, and re-running the same command resumes."""


def failure_cause(err: OSError) -> str:
    """Why a file operation failed, in words: permission denied, unreachable, missing, or its message."""
    text = " ".join(str(err).split())
    first = next((line.strip() for line in str(err).splitlines() if line.strip()), type(err).__name__)
    if isinstance(err, PermissionError) or any(mark in text for mark in DENIED_MARKS):
        return "permission denied"
    if isinstance(err, ConnectionError | TimeoutError) or any(mark in text for mark in NETWORK_MARKS):
        return f"the store is unreachable ({first[:200]})"
    if isinstance(err, FileNotFoundError):
        return "missing"
    return first[:300]
