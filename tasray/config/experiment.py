"""The experiment: every section, the checks that span sections, and dotted-path updates."""

from __future__ import annotations

import os
import re
from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from tasray.config.errors import Problem, config_error, describe, field_error, show
from tasray.config.paths import set_path
from tasray.config.sections import (
    Baseline,
    DataConfig,
    ModelConfig,
    ResourcesConfig,
    RetrainConfig,
    SearchConfig,
    Section,
    TeacherConfig,
)
from tasray.config.sweep import SweepConfig

NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
# The name becomes a directory under storage_path, so it must be a safe path component.
TRIAL_CONTEXT = {"trial": True}
"""Validation context of a trial's experiment: its sweep ranges were checked when it was loaded."""


class Experiment(Section):
    """One experiment file: an unpruned model, TAS with its sweep, and the baselines to compare.

    Args:
        name: names the run under ``storage_path``; letters, digits, ``_``, ``-``, ``.``.
        seed: seed of every random number generator (data order, init, Gumbel noise, search).
        storage_path: results directory (a relative one is taken from the current directory), or a
            pyarrow filesystem URI (``s3://``, ``gs://``...).
        data: the data set.
        model: the unpruned network.
        teacher: training of the unpruned network.
        search: the TAS search.
        retrain: training of every pruned network (TAS and baselines).
        baselines: other pruning methods, each run once at its own R.
        sweep: the Ray Tune sweep over TAS hyper-parameters.
        resources: Ray Train workers of every stage.
    """

    name: str
    seed: int = 0
    storage_path: str = "results"
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig
    teacher: TeacherConfig = Field(default_factory=TeacherConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    retrain: RetrainConfig = Field(default_factory=RetrainConfig)
    baselines: list[Baseline] = Field(default_factory=list)
    sweep: SweepConfig = Field(default_factory=SweepConfig)
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        if not NAME_PATTERN.fullmatch(name) or not name.strip("."):
            raise ValueError("must use only letters, digits, '_', '-', '.' (and not only dots)")
        return name

    @field_validator("storage_path")
    @classmethod
    def _absolute_storage(cls, path: str) -> str:
        # Ray Tune runs each trial in a working directory of its own: fix what "relative" means here.
        return path if "://" in path else os.path.abspath(os.path.expanduser(path))

    @model_validator(mode="after")
    def _across_sections(self, info: ValidationInfo) -> Experiment:
        if not (info.context or {}).get("trial"):
            self._check_sweep_values()
        for index, baseline in enumerate(self.baselines):
            keeps_fraction = getattr(baseline, "keep_ratio", None) is not None
            if baseline.target_ratio is None and not keeps_fraction:
                # Baselines prune to the same R as TAS unless told otherwise (Table 1, Table 3).
                self.baselines[index] = baseline.model_copy(update={"target_ratio": self.search.target_ratio})
        return self

    def _check_sweep_values(self) -> None:
        """Every bound and choice of the sweep must be a valid value of its field."""
        for key, rng in self.sweep.space.items():
            section_name, _, name = key.partition(".")
            section = getattr(self, section_name)
            for value in rng.extremes():
                try:
                    type(section).model_validate({**section.model_dump(), name: value})
                except ValidationError as err:
                    problem = describe(err.errors(include_url=False)[0], type(section))
                    reason = problem.requirement if isinstance(problem, Problem) else problem
                    raise field_error(
                        f"sweep.space.{key}", rng.spec(), f"{show(value)} is invalid ({reason})"
                    ) from None

    def with_values(self, values: dict[str, Any]) -> Experiment:
        """A validated copy with dotted-path values set, e.g. a trial's sampled hyper-parameters.

        Args:
            values: dotted path → value, e.g. ``{"search.target_ratio": 0.4}``.

        Raises:
            ConfigError: an unknown path, or a value the schema rejects.
        """
        data = self.model_dump()
        for path, value in values.items():
            set_path(data, path, value, Experiment)
        return validate_experiment(data, trial=True)


def validate_experiment(data: Any, prefix: str = "", trial: bool = False) -> Experiment:
    """`data` as an Experiment, or a one-line ConfigError (prefixed by e.g. the file name)."""
    try:
        return Experiment.model_validate(data, context=TRIAL_CONTEXT if trial else None)
    except ValidationError as err:
        raise config_error(err, Experiment, prefix) from None
