"""The experiment file: a typed schema, YAML loading with `--set` overrides, and config hashes.

Typical use::

    exp = load_experiment("experiments/quickstart.yaml", ["search.epochs=2"])
    trial = exp.with_values({"search.target_ratio": 0.45})
"""

from tasray.config.errors import ConfigError
from tasray.config.experiment import Experiment
from tasray.config.geometry import dataset_geometry
from tasray.config.io import (
    CONFIG_FILE,
    MEASURED_COSTS,
    config_hash,
    load_experiment,
    save_resolved,
    setup_key,
    sweep_key,
    teacher_key,
    trial_key,
)
from tasray.config.latency import LatencyConfig
from tasray.config.sections import (
    BaselineSection,
    DataConfig,
    ModelConfig,
    ResourcesConfig,
    RetrainConfig,
    SearchConfig,
    TeacherConfig,
)
from tasray.config.sweep import Range, SweepConfig

__all__ = [
    "CONFIG_FILE",
    "MEASURED_COSTS",
    "BaselineSection",
    "ConfigError",
    "DataConfig",
    "Experiment",
    "LatencyConfig",
    "ModelConfig",
    "Range",
    "ResourcesConfig",
    "RetrainConfig",
    "SearchConfig",
    "SweepConfig",
    "TeacherConfig",
    "config_hash",
    "dataset_geometry",
    "load_experiment",
    "save_resolved",
    "setup_key",
    "sweep_key",
    "teacher_key",
    "trial_key",
]
