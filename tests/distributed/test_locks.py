"""The search lock: one holder per key under contention, and a dead holder's key taken over."""

import threading
import time

import pytest
import ray
from clocks import Clock

from tasray.distributed.locks import KeyTable, RayKeyLock


def test_a_held_key_waits_for_its_holder_unless_the_holder_stopped_renewing():
    clock = Clock()
    table = KeyTable(stale_after=60.0, clock=clock)
    assert table.acquire("k", "a") and not table.acquire("k", "b")
    assert table.acquire("k", "a")  # a retried trial takes its own key again
    clock.now = 59.0
    assert table.acquire("k", "a") and not table.acquire("k", "b")  # renewed at 59 s
    clock.now = 59.0 + 60.0
    assert table.acquire("k", "b") and not table.acquire("k", "a")  # a stopped renewing: b took over
    table.release("k", "a")  # a late release by the old holder frees nothing
    assert not table.acquire("k", "c")
    table.release("k", "b")
    assert table.acquire("k", "c") and table.acquire("other", "a")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.ray
def test_the_ray_lock_under_contention_and_with_a_dead_holder(local_ray, monkeypatch):
    monkeypatch.setattr("tasray.distributed.locks.POLL_SECONDS", 0.05)
    lock = RayKeyLock(stale_after=3.0, renew_seconds=0.2)
    inside, overlaps, entered = [], [], []

    def trial(owner: str) -> None:
        with lock.for_owner(owner).hold("search"):
            inside.append(owner)
            overlaps.append(len(inside))
            entered.append(owner)
            time.sleep(0.5)  # work under the lock, several renewals long (not a readiness wait)
            inside.remove(owner)

    threads = [threading.Thread(target=trial, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(entered) == ["t0", "t1", "t2", "t3"] and max(overlaps) == 1

    # A holder that died: it took the key and never renewed nor released it.
    assert ray.get(lock.holders.acquire.remote("search", "dead"))
    with lock.for_owner("alive").hold("search"):  # returns once the dead hold went stale
        assert not ray.get(lock.holders.acquire.remote("search", "dead"))  # alive holds it now
    assert ray.get(lock.holders.acquire.remote("search", "next"))  # released on the way out
