"""`RayKeyLock`: a lock per key shared by the trials of one Tune run, held in a small actor.

A holder renews its hold every `RENEW_SECONDS` while it holds the key; a hold not renewed for
`stale_after` seconds (its trial died and was not restarted) is taken over by the next trial that
asks, so a dead holder never blocks the others for good. Times are the actor's own clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import ray

from tasray.distributed.pinning import on_driver_node

POLL_SECONDS = 2.0
RENEW_SECONDS = 10.0
STALE_AFTER_SECONDS = 60.0


class KeyTable:
    """Which owner holds each key, and when it last renewed; an owner may take a key it already
    holds (a retried trial), and anyone a key whose holder stopped renewing it."""

    def __init__(self, stale_after: float = STALE_AFTER_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.stale_after, self.clock = stale_after, clock
        self.holders: dict[str, tuple[str, float]] = {}

    def acquire(self, key: str, owner: str) -> bool:
        """Take or renew `key` for `owner`; False while another owner holds it and renews it."""
        held, now = self.holders.get(key), self.clock()
        if held is not None and held[0] != owner and now - held[1] < self.stale_after:
            return False
        self.holders[key] = (owner, now)
        return True

    def release(self, key: str, owner: str) -> None:
        if key in self.holders and self.holders[key][0] == owner:
            del self.holders[key]


KeyHolders = ray.remote(KeyTable)


class RayKeyLock:
    """Picklable handle on a `KeyHolders` actor; `for_owner` names the trial that holds keys.

    Create it in the driver: its actor is pinned to the driver's node.
    """

    def __init__(
        self,
        holders: ray.actor.ActorHandle | None = None,
        owner: str = "",
        stale_after: float = STALE_AFTER_SECONDS,
        renew_seconds: float = RENEW_SECONDS,
    ) -> None:
        if holders is None:
            holders = KeyHolders.options(**on_driver_node()).remote(stale_after)
        self.holders, self.owner, self.renew_seconds = holders, owner, renew_seconds

    def for_owner(self, owner: str) -> RayKeyLock:
        return RayKeyLock(self.holders, owner, renew_seconds=self.renew_seconds)

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        while not ray.get(self.holders.acquire.remote(key, self.owner)):
            time.sleep(POLL_SECONDS)
        done = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(key, done), name="tasray-key-renew", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join()
            ray.get(self.holders.release.remote(key, self.owner))

    def _renew(self, key: str, done: threading.Event) -> None:
        while not done.wait(self.renew_seconds):
            self.holders.acquire.remote(key, self.owner)
