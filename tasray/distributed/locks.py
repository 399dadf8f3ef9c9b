"""`RayKeyLock`: a lock per key shared by the trials of one Tune run, held in a small actor."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import ray

POLL_SECONDS = 2.0


@ray.remote(num_cpus=0)
class KeyHolders:
    """Which owner holds each key; an owner may take a key it already holds (a retried trial)."""

    def __init__(self) -> None:
        self.holders: dict[str, str] = {}

    def acquire(self, key: str, owner: str) -> bool:
        if self.holders.get(key, owner) != owner:
            return False
        self.holders[key] = owner
        return True

    def release(self, key: str, owner: str) -> None:
        if self.holders.get(key) == owner:
            del self.holders[key]


class RayKeyLock:
    """Picklable handle on a `KeyHolders` actor; `for_owner` names the trial that holds keys."""

    def __init__(self, holders: ray.actor.ActorHandle | None = None, owner: str = "") -> None:
        self.holders = holders if holders is not None else KeyHolders.remote()
        self.owner = owner

    def for_owner(self, owner: str) -> RayKeyLock:
        return RayKeyLock(self.holders, owner)

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        while not ray.get(self.holders.acquire.remote(key, self.owner)):
            time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            ray.get(self.holders.release.remote(key, self.owner))
