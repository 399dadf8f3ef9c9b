"""The `latency` section: where and how latency is measured, for `search.cost: latency` (its
table) and for the latency columns of every results row."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from tasray.config.errors import field_error
from tasray.config.sections import Section


class LatencyConfig(Section):
    """Latency measurement (`tasray.costs.timing`'s protocol).

    Args:
        device: ``cpu``, ``cuda``, or ``auto``: ``cuda`` when ``resources.use_gpu``, else ``cpu``.
        batch: images per forward pass of the table and of the rows' second measurement (rows are
            measured at batch 1 too).
        dtype: ``float32``, ``bfloat16`` or ``float16``.
        clock: on a CPU, ``cpu`` times one thread by its CPU time (a machine shared with other
            jobs), ``wall`` times wall clock (a quiet machine); CUDA always uses CUDA events.
        threads: intra-op threads with the wall clock (unset: PyTorch's default).
        table_rounds: timed rounds of each table unit.
        rounds: timed rounds of each network of a row.
        table: a table file written by ``tasray latency-table`` (e.g. measured on the deployment
            device and copied here); unset: measured on first use on `device` and cached under
            ``<storage>/_latency/<key>/``.
    """

    device: Literal["auto", "cpu", "cuda"] = "auto"
    batch: int = Field(1, ge=1)
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    clock: Literal["cpu", "wall"] = "cpu"
    threads: int | None = Field(None, ge=1)
    table_rounds: int = Field(30, ge=1)
    rounds: int = Field(100, ge=1)
    table: str | None = None

    @model_validator(mode="after")
    def _threads_need_wall_clock(self) -> LatencyConfig:
        if self.threads is not None and self.clock == "cpu" and self.device != "cuda":
            raise field_error("threads", self.threads, "needs clock: wall (the cpu clock times one thread)")
        return self
