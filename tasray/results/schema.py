"""The one schema of a results row: the `TrialRecord` dataclass and the matching Arrow `SCHEMA`.

Every finished trial (a TAS search + retrain, a baseline, or the unpruned net) is one row.
FLOPs are multiply-accumulates (MACs), the convention of the TAS paper. Accuracies are percent.
A trial's target R is a ratio of its `cost` (`search.cost`); `cost_ratio` is the final network's
ratio under that cost, and the band (1 ± t)·R is checked on it. Latency columns (schema 4): the
experiment's latency table's prediction for the network and its ratio to the unpruned network's
(`latency_ratio`, the ratio `--cost latency` buckets by), and the network measured with the fixed
protocol at batch 1 and at the table's batch on the table's device, each with its ratio to the
unpruned network timed in the same rounds (null where the row's process lacked that device).
Schema 5 renamed TAS's |I| from ``num_samples`` (easily read as Tune's number of trials) to
``num_selected``, the config's name.

Schema evolution: bump `SCHEMA_VERSION` and only *add* nullable columns (or rename one, listed in
`RENAMED`). Readers project every file onto the current `SCHEMA`, so a column that an older file
lacks reads as null, and a renamed column reads under its new name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from tasray.costs import COSTS, Cost, flops
from tasray.errors import TasrayError
from tasray.methods.registry import METHODS
from tasray.spec.arch import ArchSpec
from tasray.tas.cost_loss import in_band as ratio_in_band

SCHEMA_VERSION = 5
RENAMED = {"num_samples": "num_selected"}  # old column name -> current (schema 5)
UNPRUNED = "unpruned"  # the method of a row that holds the unpruned network
TRANSFERS = ("scratch", "init", "kd")
HISTORY_KEYS = (
    "epoch",
    "flops",
    "flop_ratio",
    "expected_flops",
    "cost_ratio",
    "expected_cost_ratio",
    "discrepancy",
    "val_top1",
    "tau",
)
LATER_HISTORY_KEYS = ("cost_ratio", "expected_cost_ratio")  # absent from rows of schema version 2
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=-]*$")  # ids become file and folder names

HISTORY_TYPE = pa.struct(
    [
        ("epoch", pa.int32()),
        ("flops", pa.float64()),
        ("flop_ratio", pa.float64()),
        ("expected_flops", pa.float64()),
        ("cost_ratio", pa.float64()),
        ("expected_cost_ratio", pa.float64()),
        ("discrepancy", pa.float64()),
        ("val_top1", pa.float64()),
        ("tau", pa.float64()),
    ]
)
_TIME = pa.timestamp("us", tz="UTC")

SCHEMA = pa.schema(
    [
        pa.field("schema_version", pa.int32(), nullable=False),
        pa.field("experiment_id", pa.string(), nullable=False),
        pa.field("trial_id", pa.string(), nullable=False),
        pa.field("method", pa.string(), nullable=False),
        pa.field("transfer", pa.string(), nullable=False),
        pa.field("data_set", pa.string(), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("seed", pa.int64(), nullable=False),
        pa.field("target_ratio", pa.float64()),
        pa.field("lambda_cost", pa.float64()),
        pa.field("num_selected", pa.int32()),
        pa.field("tolerance", pa.float64()),
        pa.field("flops", pa.int64(), nullable=False),
        pa.field("params", pa.int64(), nullable=False),
        pa.field("flop_ratio", pa.float64(), nullable=False),
        pa.field("prune_ratio", pa.float64(), nullable=False),
        pa.field("cost", pa.string()),
        pa.field("cost_ratio", pa.float64()),
        pa.field("top1", pa.float64(), nullable=False),
        pa.field("top5", pa.float64()),
        pa.field("teacher_top1", pa.float64()),
        pa.field("accuracy_drop", pa.float64()),
        pa.field("search_seconds", pa.float64()),
        pa.field("train_seconds", pa.float64()),
        pa.field("arch", pa.string(), nullable=False),
        pa.field("search_history", pa.list_(HISTORY_TYPE), nullable=False),
        pa.field("selected_epoch", pa.int32()),
        pa.field("in_band", pa.bool_()),
        pa.field("started_at", _TIME),
        pa.field("finished_at", _TIME),
        pa.field("host", pa.string()),
        pa.field("tasray_version", pa.string()),
        pa.field("config_hash", pa.string()),
        pa.field("latency_device", pa.string()),
        pa.field("latency_batch", pa.int32()),
        pa.field("predicted_latency_ms", pa.float64()),
        pa.field("latency_ratio", pa.float64()),
        pa.field("measured_latency_ms", pa.float64()),
        pa.field("measured_latency_ratio", pa.float64()),
        pa.field("measured_latency_b1_ms", pa.float64()),
        pa.field("measured_latency_b1_ratio", pa.float64()),
        pa.field("latency_spread", pa.float64()),
        pa.field("setup_hash", pa.string()),
    ],
    metadata={"tasray.schema_version": str(SCHEMA_VERSION)},
)


class RecordError(TasrayError, ValueError):
    """A results row with a missing or out-of-range field."""


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial, as written to the results store (one Parquet file per trial)."""

    experiment_id: str  # the run (one `tasray run` of one experiment YAML); a folder of the store
    trial_id: str  # unique within the experiment; names the trial's file
    method: str  # one of METHODS
    transfer: str  # how the pruned net was trained: one of TRANSFERS
    data_set: str  # e.g. cifar10, cifar100, imagenet; an npz file's data.label (default its stem)
    model: str  # source (unpruned) model, e.g. cifar_resnet56
    seed: int  # random seed of the trial
    flops: int  # MACs of the final network for one image (paper's "FLOPs")
    params: int  # learnable parameters of the final network
    flop_ratio: float  # flops / flops of the unpruned net (1.0 = unpruned)
    top1: float  # test top-1 accuracy of the final network, percent
    arch: ArchSpec  # the final architecture; stored as ArchSpec JSON
    top5: float | None = None  # test top-5 accuracy, percent
    teacher_top1: float | None = None  # top-1 of the unpruned teacher, percent
    cost: str | None = None  # the cost R is a ratio of (`search.cost`); null in rows before version 3
    cost_ratio: float | None = None  # the final network's ratio under `cost`
    target_ratio: float | None = None  # target R as a ratio of `cost`; null without a target
    lambda_cost: float | None = None  # TAS weight λ_cost of the cost loss; null for baselines
    num_selected: int | None = None  # TAS |I|, channel choices sampled per layer; null otherwise
    tolerance: float | None = None  # tolerance t: the band is (1 ± t)·R; null without a target
    search_seconds: float | None = None  # wall time of the search stage; null if none
    train_seconds: float | None = None  # wall time of the (re)training stage
    search_history: list[dict[str, Any]] = field(default_factory=list)  # per-epoch search stats
    selected_epoch: int | None = None  # the search epoch whose architecture was kept; null: no search
    started_at: datetime | None = None  # trial start, timezone-aware (naive is taken as UTC)
    finished_at: datetime | None = None  # trial end
    host: str | None = None  # machine that ran the trial
    tasray_version: str | None = None  # tasray.__version__ of the writer
    config_hash: str | None = None  # content hash of the trial's resolved config
    latency_device: str | None = None  # the latency table's device, e.g. "cpu (AMD EPYC)"; null before 4
    latency_batch: int | None = None  # the table's batch
    predicted_latency_ms: float | None = None  # the table's prediction, at the table's batch
    latency_ratio: float | None = None  # predicted / the table's prediction for the unpruned net
    measured_latency_ms: float | None = None  # measured at the table's batch on its device
    measured_latency_ratio: float | None = None  # over the unpruned net measured in the same rounds
    measured_latency_b1_ms: float | None = None  # measured at batch 1
    measured_latency_b1_ratio: float | None = None
    latency_spread: float | None = None  # worst IQR / median of those measurements; > 0.1: disturbed
    setup_hash: str | None = None  # the same without the seed: one per configuration; null before v4

    def __post_init__(self) -> None:
        for name in ("experiment_id", "trial_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _SAFE_ID.match(value):
                raise RecordError(f"{name} = {value!r}; use letters, digits and _.=- (it names a file)")
        if self.method != UNPRUNED and self.method not in METHODS:
            allowed = ", ".join([*METHODS.names(), UNPRUNED])
            raise RecordError(f"method = {self.method!r}; allowed: {allowed}")
        if self.cost is not None and self.cost not in COSTS:
            raise RecordError(f"cost = {self.cost!r}; allowed: {', '.join(COSTS.names())}")
        if self.transfer not in TRANSFERS:
            raise RecordError(f"transfer = {self.transfer!r}; allowed: {', '.join(TRANSFERS)}")
        for name in ("top1", "top5", "teacher_top1"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 100.0:
                raise RecordError(f"{name} = {value}; accuracies are percentages in 0..100")
        if self.flops < 0 or self.params < 0 or self.flop_ratio < 0:
            raise RecordError("flops, params and flop_ratio must be >= 0")
        if self.arch.model != self.model:
            raise RecordError(f"arch is a {self.arch.model}, but model = {self.model!r}")
        history = [_history_entry(entry, i) for i, entry in enumerate(self.search_history)]
        object.__setattr__(self, "search_history", history)
        object.__setattr__(self, "started_at", _utc(self.started_at))
        object.__setattr__(self, "finished_at", _utc(self.finished_at))

    @classmethod
    def from_arch(cls, arch: ArchSpec, cost: Cost | None = None, **fields_: Any) -> TrialRecord:
        """A record whose model, flops, params, flop_ratio and (given the trial's `cost`) cost and
        cost_ratio are computed from `arch`.

        Example: ``TrialRecord.from_arch(spec, experiment_id="e", trial_id="t0", method="tas",
        transfer="kd", data_set="cifar10", seed=0, top1=92.1)``.
        """
        return cls(
            arch=arch,
            model=arch.model,
            flops=flops.count_flops(arch),
            params=flops.count_params(arch),
            flop_ratio=flops.flop_ratio(arch),
            cost=None if cost is None else cost.name,
            cost_ratio=None if cost is None else cost.ratio(arch),
            **fields_,
        )

    @property
    def prune_ratio(self) -> float:
        """Fraction of the unpruned FLOPs removed (the paper's "prune ratio")."""
        return 1.0 - self.flop_ratio

    @property
    def in_band(self) -> bool | None:
        """Whether the cost ratio (the FLOP ratio in rows without a cost) lies within (1 ± t)·R;
        null without a target or a tolerance."""
        if self.target_ratio is None or self.tolerance is None:
            return None
        ratio = self.flop_ratio if self.cost_ratio is None else self.cost_ratio
        return ratio_in_band(ratio, self.target_ratio, self.tolerance)

    @property
    def accuracy_drop(self) -> float | None:
        """Teacher top-1 minus this top-1, in points; negative: the pruned net is better."""
        return None if self.teacher_top1 is None else self.teacher_top1 - self.top1

    def to_row(self) -> dict[str, Any]:
        """A dict with exactly the columns of `SCHEMA`."""
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row.update(
            schema_version=SCHEMA_VERSION,
            arch=self.arch.to_json(),
            prune_ratio=self.prune_ratio,
            accuracy_drop=self.accuracy_drop,
            in_band=self.in_band,
        )
        return {name: row[name] for name in SCHEMA.names}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TrialRecord:
        """Inverse of `to_row`; derived columns are recomputed, not trusted."""
        names = {f.name for f in fields(cls)}
        data = {k: v for k, v in row.items() if k in names}
        data["arch"] = ArchSpec.from_json(row["arch"])
        data["search_history"] = list(row.get("search_history") or [])
        return cls(**data)

    def to_table(self) -> pa.Table:
        """This record as a one-row Arrow table with `SCHEMA`."""
        return pa.Table.from_pylist([self.to_row()], schema=SCHEMA)


def _history_entry(entry: dict[str, Any], index: int) -> dict[str, Any]:
    required = set(HISTORY_KEYS) - set(LATER_HISTORY_KEYS)
    if not isinstance(entry, dict) or not required <= set(entry) <= set(HISTORY_KEYS):
        got = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
        raise RecordError(f"search_history[{index}] needs the keys {list(HISTORY_KEYS)}; got {got}")

    def number(key: str) -> float | int | None:
        value = entry.get(key)
        return None if value is None else int(value) if key == "epoch" else float(value)

    return {key: number(key) for key in HISTORY_KEYS}


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)
