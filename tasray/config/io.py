"""Reading and writing experiment files, `--set` overrides, and content hashes of configs."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent

from tasray.config.errors import ConfigError
from tasray.config.experiment import Experiment, validate_experiment
from tasray.config.paths import set_path
from tasray.io import storage

CONFIG_FILE = "_config.yaml"
"""The resolved experiment, beside its rows (readers of the store skip names starting with "_")."""
# Data fields that change how data is fetched or evaluated, not the weights a teacher learns.
NOT_TEACHER_INPUTS = {"download", "loader_workers", "eval_batch_size", "label"}
# Bounds that keep parsing fast whatever the input: experiment files are a few kilobytes.
MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_NODES = 20_000
"""Nesting levels and values (after expanding aliases) a YAML document may have."""


class LimitError(YAMLError):
    """A document beyond the parsing bounds (too deep, too many values once aliases expand)."""


# Experiment fields that never change a trial's row: where it is stored and run, and the trials
# beside it (a baseline trial hashes its own baseline entry).
NOT_TRIAL_INPUTS = {"name", "storage_path", "resources", "sweep", "baselines", "latency"}
MEASURED_COSTS = {"latency"}
"""Costs whose values the `latency` section decides: a trial searched under one depends on it."""


def yaml_1_2() -> YAML:
    """Safe YAML 1.2: ``1e-3`` is a float, ``no`` is text, and a duplicate key is an error."""
    return YAML(typ="safe", pure=True)


def check_bounds(text: str) -> None:
    """Reject a document that is too deep or too large once its aliases are expanded.

    Only the parser's events are read, nothing is built: the size and depth of each anchored
    value are remembered, so an alias bomb costs microseconds to measure instead of minutes and
    gigabytes to build, and deep nesting stops before any recursion.

    Raises:
        LimitError: more than MAX_DEPTH levels, more than MAX_NODES values, or an alias to itself.
    """
    anchors: dict[str, tuple[int, int] | None] = {}  # (values, levels) of each anchored value
    open_collections: list[list[Any]] = []  # [anchor, values, levels] of each unfinished one
    for event in yaml_1_2().parse(text):
        level = len(open_collections) + 1
        if isinstance(event, CollectionStartEvent):
            if level > MAX_DEPTH:
                raise LimitError(f"nested more than {MAX_DEPTH} levels deep")
            if event.anchor:
                anchors[event.anchor] = None  # open: an alias to it from inside would recurse
            open_collections.append([event.anchor, 1, 1])
            continue
        if isinstance(event, CollectionEndEvent):
            anchor, size, height = open_collections.pop()
            level -= 1
        elif isinstance(event, AliasEvent):
            if event.anchor in anchors and anchors[event.anchor] is None:
                raise LimitError("an alias refers to a value that contains it")
            anchor, (size, height) = None, anchors.get(event.anchor) or (1, 1)  # unknown: load says so
        elif isinstance(event, ScalarEvent):
            anchor, size, height = event.anchor, 1, 1
        else:  # the stream's and document's start and end
            continue
        if anchor:
            anchors[anchor] = size, height
        if level + height - 1 > MAX_DEPTH:
            raise LimitError(f"nested more than {MAX_DEPTH} levels deep (with aliases expanded)")
        if size > MAX_NODES:
            raise LimitError(f"expands to more than {MAX_NODES:,} values (YAML aliases)")
        if open_collections:
            parent = open_collections[-1]
            parent[1], parent[2] = min(parent[1] + size, MAX_NODES + 1), max(parent[2], height + 1)


def parse_yaml(text: str, source: str) -> Any:
    """YAML 1.2 text as Python data; a syntax error is a one-line ConfigError naming `source`.

    Parsing is bounded: nesting depth and the size after alias expansion are checked on the
    parser's events, before any value is built (an alias bomb is rejected in milliseconds).
    """
    try:
        check_bounds(text)
        return yaml_1_2().load(text)
    except LimitError as err:
        raise ConfigError(f"{source}: rejected: {err}") from None
    except YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{source}: not valid YAML{where}: {' '.join(problem.split())}") from None


def parse_override(item: str) -> tuple[str, Any]:
    """``"search.epochs=3"`` → ``("search.epochs", 3)``; the value is read as YAML."""
    path, sep, raw = item.partition("=")
    if not sep or not path.strip():
        raise ConfigError(f"--set {item!r}: expected key.path=value, e.g. search.epochs=3")
    return path.strip(), parse_yaml(raw, f"--set {path.strip()}")


def load_experiment(path: str | Path, overrides: Sequence[str] = ()) -> Experiment:
    """Read, override and validate an experiment file.

    Args:
        path: the YAML file.
        overrides: ``key.path=value`` strings applied before validation, e.g.
            ``"search.epochs=3"`` or ``"sweep.space.search.target_ratio={uniform: [0.3, 0.6]}"``.

    Raises:
        ConfigError: a missing or malformed file, an unknown override path, or an invalid value;
            the message is one line naming the field, the value and what is allowed.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such experiment file")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(
                f"{path}: {size:,} bytes; an experiment file may have at most {MAX_FILE_BYTES:,}"
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not a text file (not UTF-8 at byte {err.start})") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from None
    data = parse_yaml(text, str(path))
    if data is None:
        raise ConfigError(f"{path}: the file is empty; an experiment needs at least name and model")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: must be a mapping of sections (name, model, data, search, ...); "
            f"got a {type(data).__name__}"
        )
    for item in overrides:
        key, value = parse_override(item)
        try:
            set_path(data, key, value, Experiment)
        except ConfigError as err:
            raise ConfigError(f"--set {err}") from None
    return validate_experiment(data, prefix=f"{path}: ")


def save_resolved(exp: Experiment, path: str | Path) -> str:
    """Write `exp` with every default filled in, as YAML that `load_experiment` reads back.

    `path` is a local path or a storage URI; the file is written whole (temp file + rename).
    Returns the path written.
    """
    writer = yaml_1_2()
    writer.default_flow_style, writer.sort_base_mapping_type_on_output = False, False  # sections in order
    text = io.StringIO()
    writer.dump(exp.model_dump(mode="json"), text)
    storage.write_bytes(str(path), text.getvalue().encode())
    return str(path)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"config_hash cannot hash a {type(value).__name__}")


def config_hash(*parts: BaseModel | Any) -> str:
    """A short, stable content hash: sha256 of the parts as canonical JSON (sorted keys).

    Args:
        parts: config models, dataclasses (e.g. an ArchSpec), or plain JSON-able values.
    """
    payload = [p.model_dump(mode="json") if isinstance(p, BaseModel) else p for p in parts]
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_jsonable)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _data_inputs(exp: Experiment) -> dict[str, Any]:
    """The data settings that change what a network learns."""
    data = exp.data.model_dump(mode="json", exclude=NOT_TEACHER_INPUTS)
    if data["image_size"] is None:  # unset: keys of runs from before image_size existed stay valid
        del data["image_size"]
    return data


def _parallel_inputs(exp: Experiment) -> dict[str, Any]:
    """The one resource that changes what a network learns: the data-parallel workers, which set
    the global batch (``batch_size × num_workers``) and so the steps per epoch. One worker adds
    nothing, so the keys of one-worker runs from before it was hashed stay the same."""
    workers = exp.resources.num_workers
    return {} if workers == 1 else {"num_workers": workers}


def teacher_key(exp: Experiment) -> str:
    """The cache key of the trained unpruned network: what determines its weights.

    Data settings that do not change the weights (download, loader workers, eval batch size) are
    left out, so changing them does not retrain the teacher; the global batch is in.
    """
    parallel = _parallel_inputs(exp)
    return config_hash(_data_inputs(exp), exp.model, exp.teacher, exp.seed, *([parallel] if parallel else []))


def _result_inputs(exp: Experiment) -> dict[str, Any]:
    data = exp.model_dump(mode="json", exclude=NOT_TRIAL_INPUTS)
    data["data"] = _data_inputs(exp)
    if exp.search.cost in MEASURED_COSTS:  # otherwise latency only adds measured columns to a row
        data["latency"] = exp.latency.model_dump(mode="json")
    if exp.data.label is not None:  # the row's data_set; unset, it is the file's stem (root is hashed)
        data["data"]["label"] = exp.data.label
    if parallel := _parallel_inputs(exp):
        data["resources"] = parallel
    return data


def trial_key(exp: Experiment, method: str, baseline_index: int | None = None) -> str:
    """The content hash of what determines one trial's results row (its ``config_hash``).

    Resources other than `num_workers` (it sets the global batch), the sweep's size and
    concurrency, the other trials, loader workers and the storage path are left out, so a bigger
    sweep or another cluster reuses every finished row; so is the `latency` section, unless the
    trial's cost is measured latency.

    Args:
        exp: the trial's experiment (a TAS trial's has the sweep's values set).
        method: the registered method name, e.g. ``tas`` or ``fixed_ratio``.
        baseline_index: position of the trial's entry in ``exp.baselines``, None for TAS.
    """
    return config_hash(_result_inputs(exp), method, _baseline_entry(exp, baseline_index))


def setup_key(exp: Experiment, method: str, baseline_index: int | None = None) -> str:
    """The trial key without the seed (a row's ``setup_hash``): rows of one configuration over
    several seeds share it, and the leaderboard shows their mean ± std."""
    inputs = _result_inputs(exp)
    del inputs["seed"]
    return config_hash(inputs, method, _baseline_entry(exp, baseline_index))


def _baseline_entry(exp: Experiment, baseline_index: int | None) -> dict[str, Any] | None:
    return None if baseline_index is None else exp.baselines[baseline_index].model_dump(mode="json")


def sweep_key(exp: Experiment) -> str:
    """The hash of what decides which trials a sweep proposes, whatever its size and concurrency."""
    sweep = exp.sweep.model_dump(mode="json", include={"algorithm", "space", "points_to_evaluate"})
    return config_hash(_result_inputs(exp), sweep, [b.model_dump(mode="json") for b in exp.baselines])
