"""One search for many retrains: TAS search results cached by a hash of what determines them.

Trials that differ only after the search (Table 1's transfers scratch / init / KD, or retraining
settings swept) share one search: `CachedSearches` answers a `SearchJob` from
`<storage>/_searches/<search_key>/search.pt`, next to the teacher cache, and runs it only on a
miss. With a `KeyLock` shared by concurrent trials, the first one runs the search and the others
wait for its result.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Protocol

from tasray.config import config_hash
from tasray.config.io import NOT_TEACHER_INPUTS
from tasray.engine.jobs import SearchJob
from tasray.engine.runner import Job, Runner
from tasray.io.keyed_cache import KeyedCache
from tasray.spec.arch import ArchSpec
from tasray.stages.search import SearchResult
from tasray.stages.train import TrainResult

SEARCHES = "_searches"


def search_key(job: SearchJob) -> str:
    """The hash of what determines a search's result: data, model, search settings, cost and seed."""
    data = job.data.model_dump(mode="json", exclude=NOT_TEACHER_INPUTS)
    return config_hash(job.full_spec, job.settings, job.cost.identity(), data, job.seed)


class KeyLock(Protocol):
    """Mutual exclusion per key among the trials of one run."""

    def hold(self, key: str) -> contextlib.AbstractContextManager[None]: ...


class SearchCache(KeyedCache[SearchResult]):
    """Finished searches under `<storage>/_searches/<search_key>/`, shared by every trial and run."""

    what, folder, file_name, redo = "search", SEARCHES, "search.pt", "run the search again"

    def encode(self, result: SearchResult) -> dict[str, Any]:
        return {**vars(result), "spec": result.spec.to_dict()}

    def decode(self, blob: dict[str, Any]) -> SearchResult:
        return SearchResult(**{**blob, "spec": ArchSpec.from_dict(blob["spec"])})


class CachedSearches:
    """A runner that answers search jobs from `cache` and passes every other job to `runner`.

    Args:
        runner: where jobs run (`LocalRunner`, `RayRunner`).
        cache: the search cache of the experiment's storage.
        lock: held per search key while looking up and running a search (None: no other trial
            runs at the same time).
    """

    def __init__(self, runner: Runner, cache: SearchCache, lock: KeyLock | None = None) -> None:
        self.runner, self.cache, self.lock = runner, cache, lock

    def run(self, job: Job) -> TrainResult | SearchResult:
        if not isinstance(job, SearchJob):
            return self.runner.run(job)
        key = search_key(job)
        with self._held(key):
            result = self.cache.load(key)
            if result is None:
                result = self.runner.run(job)
                self.cache.save(key, result)
        return result

    @contextlib.contextmanager
    def _held(self, key: str) -> Iterator[None]:
        if self.lock is None:
            yield
            return
        with self.lock.hold(key):
            yield
