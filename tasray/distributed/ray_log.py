"""Ray's own log records in the driver go to a file, not stderr, unless `--verbose`.

Ray Tune and Train log through the ``ray`` logger, tracebacks included (a store that stopped
taking writes gave hundreds of lines); the run's own lines say what happened, and the file keeps
Ray's account of it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def ray_log_to_file(experiment: str, verbose: bool) -> Iterator[str | None]:
    """For the block, the ``ray`` logger writes to a file in the temp folder; yields its path
    (None when `verbose`: Ray's records stay on stderr)."""
    if verbose:
        yield None
        return
    path = os.path.join(tempfile.gettempdir(), f"tasray-{experiment}-{os.getpid()}-ray.log")
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("ray")
    saved = logger.handlers[:], logger.propagate
    logger.handlers, logger.propagate = [handler], False
    try:
        yield path
    finally:
        logger.handlers, logger.propagate = saved
        handler.close()
