"""A latency lookup table: the measured seconds of every unit of a model's search space, on one
device, with the conditions of its measurement (device, back-end, torch, dtype, batch, threads).

`measure_table` times every distinct unit (`latency_units`) once with the fixed protocol of
`tasray.costs.timing`; `LatencyTable.network_seconds(spec)` predicts a whole network as the sum of
its units. A unit the table lacks (a width outside the search space's candidates, e.g. a
fixed-ratio network's) is interpolated linearly between the measured widths of its grid and
clamped at its ends. Tables are JSON (`to_json`), so one measured on a deployment device can be
copied to where the search runs.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from tasray.costs.latency_units import GridKey, Unit, network_units, space_units, unit_run
from tasray.costs.timing import TimingProtocol, protocol_threads, time_runs
from tasray.errors import TasrayError
from tasray.spec.arch import ArchSpec

FORMAT = "tasray-latency-table/1"
CHUNK = 256  # units built and timed together (interleaved); bounds the memory of big models


@dataclass(frozen=True)
class LatencyTable:
    """Measured seconds per unit of one model's search space, and where and how they were measured.

    Args:
        model, in_channels, input_size, num_classes: the unpruned network the table is for.
        width_ratios, width_multiple: the search space whose candidate widths were measured.
        batch: images per forward pass.
        device: ``cpu`` or ``cuda``; `device_name` the CPU or GPU model.
        backend: torch version and the kernels' library (CPU capability, CUDA and cuDNN).
        dtype, timer, threads: the protocol's dtype, clock and intra-op threads.
        rounds: timed rounds per unit.
        seconds: each unit's latency (the fastest timed call).
        medians: each unit's median, for the spread.
        measured_at: when (UTC, ISO 8601).
    """

    model: str
    in_channels: int
    input_size: tuple[int, int]
    num_classes: int
    width_ratios: tuple[float, ...]
    width_multiple: int
    batch: int
    device: str
    device_name: str
    backend: str
    dtype: str
    timer: str
    threads: int
    rounds: int
    seconds: dict[Unit, float] = field(repr=False)
    medians: dict[Unit, float] = field(repr=False)
    measured_at: str = ""

    @property
    def full_spec(self) -> ArchSpec:
        return ArchSpec.full(self.model, self.num_classes, self.in_channels, self.input_size)

    def describe(self) -> str:
        """One line: what the table measured, e.g. ``cifar_resnet20 1×8×8, batch 1, cpu (...)``."""
        h, w = self.input_size
        return (
            f"{self.model} {self.in_channels}×{h}×{w}, batch {self.batch}, {self.dtype}, "
            f"{self.device} ({self.device_name}; {self.timer}), {len(self.seconds)} units"
        )

    def check_fits(self, spec: ArchSpec, what: str = "the experiment") -> None:
        """Refuse, in one line, a table made for another model or input than `spec`'s."""
        mine = (self.model, self.in_channels, tuple(self.input_size), self.num_classes)
        theirs = (spec.model, spec.in_channels, tuple(spec.input_size), spec.num_classes)
        if mine != theirs:
            raise TasrayError(
                f"the latency table is for {_geometry(*mine)}, but {what} is {_geometry(*theirs)}; "
                "measure one with `tasray latency-table`"
            )

    @cached_property
    def _grids(self) -> dict[GridKey, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per grid: sorted input widths, output widths and the seconds matrix."""
        by_grid: dict[GridKey, dict[tuple[int, int], float]] = {}
        for unit, seconds in self.seconds.items():
            by_grid.setdefault(unit.grid, {})[(unit.cin, unit.cout)] = seconds
        grids = {}
        for key, cells in by_grid.items():
            cins, couts = sorted({c for c, _ in cells}), sorted({c for _, c in cells})
            matrix = np.array([[cells.get((i, o), np.nan) for o in couts] for i in cins])
            if np.isnan(matrix).any():
                raise TasrayError(f"the latency table's {key[0]} units at {key[1:]} do not form a grid")
            grids[key] = (np.array(cins, dtype=float), np.array(couts, dtype=float), matrix)
        return grids

    def lookup(self, unit: Unit) -> float:
        """Seconds of `unit`: measured, or interpolated over its grid's widths."""
        measured = self.seconds.get(unit)
        if measured is not None:
            return measured
        if unit.grid not in self._grids:
            raise TasrayError(
                f"the latency table has no {unit.op} unit of kernel {unit.kernel}, "
                f"stride {unit.stride} at {unit.hw[0]}×{unit.hw[1]}; was it made for this model?"
            )
        cins, couts, matrix = self._grids[unit.grid]
        per_cin = [np.interp(unit.cout, couts, row) for row in matrix]
        return float(np.interp(unit.cin, cins, per_cin))

    def network_seconds(self, spec: ArchSpec) -> float:
        """The table's prediction for the whole pruned network `spec`: the sum of its units."""
        return sum(self.lookup(unit) for unit in network_units(spec))

    def identity(self) -> str:
        """A hash of the table's content: a search under it is cached by it."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        units = sorted(self.seconds)
        return {
            "format": FORMAT,
            "model": self.model,
            "in_channels": self.in_channels,
            "input_size": list(self.input_size),
            "num_classes": self.num_classes,
            "width_ratios": list(self.width_ratios),
            "width_multiple": self.width_multiple,
            "batch": self.batch,
            "device": self.device,
            "device_name": self.device_name,
            "backend": self.backend,
            "dtype": self.dtype,
            "timer": self.timer,
            "threads": self.threads,
            "rounds": self.rounds,
            "measured_at": self.measured_at,
            "units": [[*u.to_list(), self.seconds[u], self.medians[u]] for u in units],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, data: dict) -> LatencyTable:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise TasrayError(
                f'not a latency table (expected "format": "{FORMAT}"); make one with `tasray latency-table`'
            )
        try:
            entries = [(Unit.from_list(row[:6]), float(row[6]), float(row[7])) for row in data["units"]]
            return cls(
                model=str(data["model"]),
                in_channels=int(data["in_channels"]),
                input_size=(int(data["input_size"][0]), int(data["input_size"][1])),
                num_classes=int(data["num_classes"]),
                width_ratios=tuple(float(r) for r in data["width_ratios"]),
                width_multiple=int(data["width_multiple"]),
                batch=int(data["batch"]),
                device=str(data["device"]),
                device_name=str(data["device_name"]),
                backend=str(data["backend"]),
                dtype=str(data["dtype"]),
                timer=str(data["timer"]),
                threads=int(data["threads"]),
                rounds=int(data["rounds"]),
                seconds={u: s for u, s, _ in entries},
                medians={u: m for u, _, m in entries},
                measured_at=str(data.get("measured_at", "")),
            )
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise TasrayError(f"a damaged latency table ({type(err).__name__}: {err})") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> LatencyTable:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise TasrayError(f"a latency table must be JSON ({err})") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> LatencyTable:
        """A table file written by `tasray latency-table --out`; errors name the file."""
        path = Path(path)
        if not path.is_file():
            raise TasrayError(f"no such latency table: {path}")
        try:
            return cls.from_json(path.read_bytes())
        except TasrayError as err:
            raise TasrayError(f"{path}: {err}") from None


def _geometry(model: str, in_channels: int, size: tuple[int, int], classes: int) -> str:
    return f"{model} at {in_channels}×{size[0]}×{size[1]} with {classes} classes"


def device_name(device: torch.device) -> str:
    """The GPU's or the CPU's model name."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def backend(device: torch.device) -> str:
    """The kernels' provenance: torch, and CUDA with cuDNN or the CPU's instruction set."""
    if device.type == "cuda":
        return f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}"
    return f"torch {torch.__version__}, CPU {torch.backends.cpu.get_cpu_capability()}"


def measure_table(
    full: ArchSpec,
    width_ratios: Sequence[float],
    width_multiple: int,
    batch: int,
    protocol: TimingProtocol,
    progress: Callable[[int, int], None] | None = None,
) -> LatencyTable:
    """Time every distinct unit of `full`'s search space on `protocol.device`.

    Args:
        full: the unpruned network at the input geometry of the experiment.
        width_ratios, width_multiple: the search space (`search.width_ratios`, `width_multiple`).
        batch: images per forward pass.
        protocol: device, clock, threads, dtype and rounds (`tasray.costs.timing`).
        progress: called with (units done, units in all) after each chunk.
    """
    ratios = tuple(sorted(width_ratios))
    units = space_units(full, ratios, width_multiple)
    device, dtype = protocol.torch_device, protocol.torch_dtype
    seconds: dict[Unit, float] = {}
    medians: dict[Unit, float] = {}
    with protocol_threads(protocol) as threads:
        for start in range(0, len(units), CHUNK):
            chunk, inputs = units[start : start + CHUNK], {}
            runs = [unit_run(unit, batch, device, dtype, inputs) for unit in chunk]
            for unit, timing in zip(chunk, time_runs(runs, protocol), strict=True):
                seconds[unit], medians[unit] = timing.best, timing.median
            if progress is not None:
                progress(len(seconds), len(units))
    return LatencyTable(
        model=full.model,
        in_channels=full.in_channels,
        input_size=tuple(full.input_size),
        num_classes=full.num_classes,
        width_ratios=ratios,
        width_multiple=width_multiple,
        batch=batch,
        device=device.type,
        device_name=device_name(device),
        backend=backend(device),
        dtype=protocol.dtype,
        timer=protocol.timer,
        threads=threads,
        rounds=protocol.rounds,
        seconds=seconds,
        medians=medians,
        measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
