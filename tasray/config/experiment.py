"""The experiment: every section, the checks that span sections, and dotted-path updates."""

from __future__ import annotations

import os
import re
from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from tasray.config.baselines import Baseline
from tasray.config.errors import config_error, field_error, requirement, show
from tasray.config.latency import LatencyConfig
from tasray.config.paths import set_path
from tasray.config.sections import (
    DataConfig,
    ModelConfig,
    ResourcesConfig,
    RetrainConfig,
    SearchConfig,
    Section,
    TeacherConfig,
)
from tasray.config.sweep import SweepConfig
from tasray.spec.family import FAMILIES

NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
# The name becomes a directory under storage_path, so it must be a safe path component, short
# enough that Ray's run folders built from it stay under the 255-byte limit of a file name.
MAX_NAME_LENGTH = 100
MAX_SEED = 2**32 - 1
"""NumPy's seeds (hyperopt, data splits) must fit in 32 bits."""
TRIAL_CONTEXT = {"trial": True}
"""Validation context of a trial's experiment: its sweep ranges were checked when it was loaded."""


class Experiment(Section):
    """One experiment file: an unpruned model, TAS with its sweep, and the baselines to compare.

    Args:
        name: names the run under ``storage_path``; letters, digits, ``_``, ``-``, ``.``.
        seed: seed of every random number generator (data order, init, Gumbel noise, search),
            0..2³²−1.
        storage_path: results directory (a relative one is taken from the current directory), or a
            pyarrow filesystem URI (``s3://``, ``gs://``...).
        data: the data set; a relative ``root`` is taken from the current directory.
        model: the unpruned network.
        teacher: training of the unpruned network; a relative ``checkpoint`` is taken from the
            current directory.
        search: the TAS search.
        retrain: training of every pruned network (TAS and baselines).
        baselines: other pruning methods, each run once at its own R.
        sweep: the Ray Tune sweep over TAS hyper-parameters.
        resources: Ray Train workers of every stage.
        latency: where and how latency is measured (the table of ``search.cost: latency``, the
            latency columns of every row); a relative ``table`` is taken from the current directory.
    """

    name: str
    seed: int = Field(0, ge=0, le=MAX_SEED)
    storage_path: str = "results"
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig
    teacher: TeacherConfig = Field(default_factory=TeacherConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    retrain: RetrainConfig = Field(default_factory=RetrainConfig)
    baselines: list[Baseline] = Field(default_factory=list)
    sweep: SweepConfig = Field(default_factory=SweepConfig)
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    latency: LatencyConfig = Field(default_factory=LatencyConfig)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        if not NAME_PATTERN.fullmatch(name) or not name.strip("."):
            raise ValueError("must use only letters, digits, '_', '-', '.' (and not only dots)")
        if len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"has {len(name)} characters; at most {MAX_NAME_LENGTH} are allowed")
        return name

    @field_validator("storage_path")
    @classmethod
    def _absolute_storage(cls, path: str) -> str:
        # Ray Tune runs each trial in a working directory of its own: fix what "relative" means here.
        return absolute(path)

    @model_validator(mode="after")
    def _across_sections(self, info: ValidationInfo) -> Experiment:
        # Like storage_path, files are found from where tasray was started, not a Ray worker's cwd.
        if self.data.root is not None:
            self.data = self.data.model_copy(update={"root": absolute(self.data.root)})
        if self.teacher.checkpoint is not None:
            self.teacher = self.teacher.model_copy(update={"checkpoint": absolute(self.teacher.checkpoint)})
        latency: dict[str, Any] = {}
        if self.latency.table is not None:
            latency["table"] = absolute(self.latency.table)
        if self.latency.device == "auto":
            latency["device"] = "cuda" if self.resources.use_gpu else "cpu"
        self.latency = self.latency.model_copy(update=latency)
        self._check_num_selected()
        if not (info.context or {}).get("trial"):
            self._check_sweep_values()
        for index, baseline in enumerate(self.baselines):
            keeps_fraction = getattr(baseline, "keep_ratio", None) is not None
            if baseline.target_ratio is None and not keeps_fraction:
                # Baselines prune to the same R as TAS unless told otherwise (Table 1, Table 3).
                self.baselines[index] = baseline.model_copy(update={"target_ratio": self.search.target_ratio})
        return self

    def _check_num_selected(self) -> None:
        """|I| may not exceed the candidates it picks from: widths, or the longest stage's depths."""
        search = self.search
        if search.variant == "tas_d":
            deepest = max(FAMILIES.get(self.model.name).stage_depths)
            count, what = (
                max(1, deepest - search.min_depth + 1),
                f"number of depth candidates of a {self.model.name} stage",
            )
        else:
            count, what = len(search.width_ratios), "number of search.width_ratios"
        if search.num_selected > count:
            raise field_error("search.num_selected", search.num_selected, f"must be <= {count}, the {what}")

    def _check_sweep_values(self) -> None:
        """Every bound and choice of the sweep must be a valid value of its field, and leave a
        valid experiment (e.g. |I| within the candidates)."""
        for key, rng in self.sweep.space.items():
            section_name, _, name = key.partition(".")
            section = getattr(self, section_name)
            for value in rng.extremes():
                try:
                    type(section).model_validate({**section.model_dump(), name: value})
                    data = self.model_dump()
                    data[section_name][name] = value
                    Experiment.model_validate(data, context=TRIAL_CONTEXT)
                except ValidationError as err:
                    reason = requirement(err.errors(include_url=False)[0], type(section))
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


def absolute(path: str) -> str:
    """A local path made absolute against the current directory; a URI unchanged."""
    return path if "://" in path else os.path.abspath(os.path.expanduser(path))


def validate_experiment(data: Any, prefix: str = "", trial: bool = False) -> Experiment:
    """`data` as an Experiment, or a one-line ConfigError (prefixed by e.g. the file name)."""
    try:
        return Experiment.model_validate(data, context=TRIAL_CONTEXT if trial else None)
    except ValidationError as err:
        raise config_error(err, Experiment, prefix) from None
