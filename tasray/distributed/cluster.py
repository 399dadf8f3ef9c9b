"""Connecting to Ray: join the cluster named by `--address` / `RAY_ADDRESS`, or start a local one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import ray

from tasray.errors import TasrayError


@contextmanager
def ray_session(address: str | None, verbose: bool = False) -> Iterator[str | None]:
    """Ray for the duration of a command; yields the dashboard URL (None when there is none).

    A Ray already initialised in this process (a test's cluster) is used and left running; one
    started here is shut down on exit. Ray's own log lines stay hidden unless `verbose`.
    """
    if ray.is_initialized():
        yield None
        return
    try:
        context = ray.init(
            address=address, log_to_driver=verbose, logging_level=logging.INFO if verbose else logging.WARNING
        )
    except ConnectionError as err:
        raise TasrayError(f"cannot reach the Ray cluster at {address}: {str(err).splitlines()[0]}") from None
    try:
        yield context.dashboard_url or None
    finally:
        ray.shutdown()
