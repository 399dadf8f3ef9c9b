"""An experiment's latency table, and the latency columns of its results rows.

The table is the one of `latency.table` (a file measured elsewhere, e.g. on the deployment
device), or measured on first use on `latency.device` and cached under
`<storage>/_latency/<key>/table.json`, keyed by what determines it: the device's kind and model,
the back-end, the model and its input, the batch, the dtype, the clock and the search space.
Every row gets the table's prediction for its network and, where the row's process has the
table's device, the network measured at batch 1 and at the table's batch, each beside the
unpruned network timed in the same rounds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import torch

from tasray.config import Experiment, config_hash, dataset_geometry
from tasray.costs.latency_table import LatencyTable, backend, device_name, measure_table
from tasray.costs.timing import TimingProtocol, time_networks
from tasray.errors import TasrayError
from tasray.io import storage
from tasray.io.keyed_cache import KeyedCache
from tasray.spec.arch import ArchSpec

LATENCY = "_latency"


class LatencyTableCache(KeyedCache[LatencyTable]):
    """Measured tables under `<storage>/_latency/<key>/table.json`, shared by every run."""

    what, folder, file_name, redo = "latency table", LATENCY, "table.json", "measure it again"

    def encode(self, table: LatencyTable) -> dict[str, Any]:
        return table.to_dict()

    def decode(self, blob: dict[str, Any]) -> LatencyTable:
        return LatencyTable.from_dict(blob)

    def parse(self, data: bytes) -> dict[str, Any]:
        return json.loads(data)

    def write(self, file: str, blob: dict[str, Any]) -> None:
        storage.write_bytes(file, json.dumps(blob, indent=1).encode())


def experiment_spec(exp: Experiment) -> ArchSpec:
    """The unpruned network of the experiment at its data's geometry."""
    in_channels, size, classes = dataset_geometry(exp.data)
    return ArchSpec.full(exp.model.name, classes, in_channels, size)


def table_protocol(exp: Experiment) -> TimingProtocol:
    """The protocol `latency` asks for, with the table's rounds."""
    settings = exp.latency
    return TimingProtocol(
        settings.device, settings.clock, settings.threads, settings.dtype, rounds=settings.table_rounds
    )


def device_here(device: str) -> bool:
    """Whether this process can run on `device` (``cpu``, ``cuda``)."""
    return device == "cpu" or torch.cuda.is_available()


def table_key(exp: Experiment) -> str:
    """The cache key of the experiment's table, on this machine's device of `latency.device`."""
    device = torch.device(exp.latency.device)
    settings = exp.latency.model_dump(mode="json", exclude={"rounds", "table"})
    space = {"width_ratios": exp.search.width_ratios, "width_multiple": exp.search.width_multiple}
    hardware = {"device": device_name(device), "backend": backend(device)}
    return config_hash(experiment_spec(exp), settings, space, hardware)


def resolve_table(exp: Experiment, progress: Callable[[int, int], None] | None = None) -> str:
    """Where the experiment's table is: `latency.table`, or the cache, measuring it first on this
    machine when it is missing there."""
    if exp.latency.table is not None:
        return exp.latency.table
    if not device_here(exp.latency.device):
        raise TasrayError(f"latency.device = {exp.latency.device!r}, but this machine has no CUDA device")
    cache, key = LatencyTableCache(exp.storage_path), table_key(exp)
    if cache.load(key) is None:
        search = exp.search
        spec, batch = experiment_spec(exp), exp.latency.batch
        table = measure_table(
            spec, search.width_ratios, search.width_multiple, batch, table_protocol(exp), progress
        )
        cache.save(key, table)
    return cache.file(key)


def table_at_hand(exp: Experiment) -> bool:
    """Whether the experiment's table exists without measuring anything: given, or cached here."""
    if exp.latency.table is not None:
        return True
    if not device_here(exp.latency.device):
        return False
    return LatencyTableCache(exp.storage_path).load(table_key(exp)) is not None


def read_table(path: str) -> LatencyTable:
    """The table file at `path` (local or a storage URI); a missing or damaged one is one line."""
    data = storage.read_bytes(path)
    if data is None:
        raise TasrayError(f"latency.table = {path!r}: no such file; make one with `tasray latency-table`")
    try:
        return LatencyTable.from_json(data)
    except TasrayError as err:
        raise TasrayError(f"latency.table = {path!r}: {err}") from None


def experiment_table(exp: Experiment) -> LatencyTable:
    """The experiment's latency table, checked against its model and input."""
    table = read_table(resolve_table(exp))
    table.check_fits(experiment_spec(exp))
    return table


def row_protocol(table: LatencyTable, rounds: int) -> TimingProtocol:
    """The table's own protocol (device, clock, threads, dtype), with `rounds` per network."""
    clock = "cpu" if table.timer == "cpu time" else "wall"
    threads = table.threads if clock == "wall" else None
    return TimingProtocol(table.device, clock, threads, table.dtype, rounds=rounds)


def latency_columns(exp: Experiment, spec: ArchSpec) -> dict[str, Any]:
    """The latency columns of the row of `spec` (see `tasray.results.schema`)."""
    table = experiment_table(exp)
    full = spec.unpruned()
    predicted = table.network_seconds(spec)
    columns: dict[str, Any] = {
        "latency_device": f"{table.device} ({table.device_name})",
        "latency_batch": table.batch,
        "predicted_latency_ms": 1e3 * predicted,
        "latency_ratio": predicted / table.network_seconds(full),
    }
    if not device_here(table.device):
        return columns
    protocol = row_protocol(table, exp.latency.rounds)
    specs = [spec] if spec == full else [spec, full]  # the unpruned network is its own reference
    timed = {batch: time_networks(specs, batch, protocol) for batch in dict.fromkeys([1, table.batch])}
    for batch, suffix in ((1, "_b1"), (table.batch, "")):
        pruned, unpruned = timed[batch][0], timed[batch][-1]
        columns[f"measured_latency{suffix}_ms"] = 1e3 * pruned.best
        columns[f"measured_latency{suffix}_ratio"] = pruned.best / unpruned.best
    columns["latency_spread"] = max(t.spread for pair in timed.values() for t in pair)
    return columns
