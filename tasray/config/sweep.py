"""The `sweep` section: which TAS hyper-parameters Ray Tune varies, and how.

Space keys are dotted paths of real fields (``search.target_ratio``), so a trial applies its
sampled values with `Experiment.with_values` and gets a fully validated experiment back.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, field_validator, model_serializer, model_validator

from tasray.config.errors import field_error, show
from tasray.config.sections import RetrainConfig, SearchConfig, Section

SWEEPABLE_SECTIONS = {"search": SearchConfig, "retrain": RetrainConfig}
RANGE_KINDS = ("uniform", "loguniform", "choice")
RANGE_SYNTAX = "{uniform: [lo, hi]}, {loguniform: [lo, hi]} or {choice: [v1, v2, ...]}"


class Range(Section):
    """Where one hyper-parameter is sampled from; give exactly one of the three keys.

    Args:
        uniform: ``[lo, hi]``, uniform between the bounds (float fields only).
        loguniform: ``[lo, hi]`` with ``lo > 0``, uniform in log space (float fields only).
        choice: the values to pick from (the only kind a grid sweep allows).
    """

    uniform: tuple[float, float] | None = None
    loguniform: tuple[float, float] | None = None
    choice: list[Any] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> Range:
        given = [kind for kind in RANGE_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(f"must be exactly one of {RANGE_SYNTAX}")
        if self.choice is not None:
            if len({json.dumps(v, sort_keys=True) for v in self.choice}) != len(self.choice):
                raise field_error("choice", self.choice, "must not repeat a value")
            return self
        low, high = self.bounds
        if not low < high:
            raise field_error(self.kind, [low, high], "needs lo < hi")
        if self.kind == "loguniform" and low <= 0:
            raise field_error(self.kind, [low, high], "needs lo > 0")
        return self

    @property
    def kind(self) -> Literal["uniform", "loguniform", "choice"]:
        return next(kind for kind in RANGE_KINDS if getattr(self, kind) is not None)

    @property
    def bounds(self) -> tuple[float, float]:
        return self.uniform or self.loguniform  # type: ignore[return-value]

    def extremes(self) -> list[Any]:
        """The values that must be valid for the field: both bounds, or every choice."""
        return list(self.choice) if self.choice is not None else list(self.bounds)

    def contains(self, value: Any) -> bool:
        if self.choice is not None:
            return value in self.choice
        low, high = self.bounds
        return isinstance(value, int | float) and low <= value <= high

    @model_serializer
    def spec(self) -> dict[str, Any]:
        """The range as written in the file, e.g. ``{"uniform": [0.3, 0.6]}``."""
        return {self.kind: self.extremes()}

    def describe(self) -> str:
        values = self.choice if self.choice is not None else list(self.bounds)
        return f"{self.kind} {show(values)}"


class SweepConfig(Section):
    """The Ray Tune sweep over TAS trials (baselines are run once each, outside the sweep).

    Args:
        algorithm: ``hyperopt`` (TPE), ``random`` (independent samples) or ``grid`` (every
            combination of the ``choice`` ranges).
        num_samples: TAS trials; for ``grid``, repeats of the whole grid.
        max_concurrent: trials running at the same time; unset, as many as the cluster's CPUs
            (and GPUs) hold at ``resources`` per trial.
        space: dotted field path under ``search.`` or ``retrain.`` → range.
        points_to_evaluate: complete points (a value for every key of space) tried first.
    """

    algorithm: Literal["hyperopt", "grid", "random"] = "hyperopt"
    num_samples: int = Field(1, ge=1)
    max_concurrent: int | None = Field(None, ge=1)
    space: dict[str, Range] = Field(default_factory=dict)
    points_to_evaluate: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("space")
    @classmethod
    def _real_fields(cls, space: dict[str, Range]) -> dict[str, Range]:
        for key, rng in space.items():
            section, _, name = key.partition(".")
            if section not in SWEEPABLE_SECTIONS:
                raise field_error(key, rng.spec(), "must be search.<field> or retrain.<field>")
            fields = SWEEPABLE_SECTIONS[section].model_fields
            if name not in fields:
                raise field_error(key, rng.spec(), f"not a field of {section}; one of {', '.join(fields)}")
            if rng.kind != "choice" and fields[name].annotation is not float:
                raise field_error(key, rng.spec(), f"{rng.kind} needs a float field; use choice for {key}")
        return space

    @model_validator(mode="after")
    def _grid_and_points(self) -> SweepConfig:
        if self.algorithm == "grid":
            for key, rng in self.space.items():
                if rng.kind != "choice":
                    raise field_error(f"space.{key}", rng.spec(), "grid allows only choice")
            if self.points_to_evaluate:
                raise field_error(
                    "points_to_evaluate",
                    self.points_to_evaluate,
                    "only for hyperopt and random (a grid already lists its points)",
                )
        for index, point in enumerate(self.points_to_evaluate):
            where = f"points_to_evaluate[{index}]"
            missing = sorted(set(self.space) - set(point))
            if missing:
                raise field_error(where, point, f"needs a value for every key of space: {missing}")
            for key, value in point.items():
                rng = self.space.get(key)
                if rng is None:
                    raise field_error(
                        f"{where}.{key}", value, f"not a key of space; one of {sorted(self.space)}"
                    )
                if not rng.contains(value):
                    raise field_error(f"{where}.{key}", value, f"outside {rng.describe()}")
        return self

    @property
    def num_tas_trials(self) -> int:
        """How many TAS trials Tune will run."""
        if self.algorithm != "grid":
            return self.num_samples
        grid = 1
        for rng in self.space.values():
            grid *= len(rng.extremes())
        return grid * self.num_samples
