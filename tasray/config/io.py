"""Reading and writing experiment files, `--set` overrides, and content hashes of configs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from tasray import storage
from tasray.config.errors import ConfigError
from tasray.config.experiment import Experiment, validate_experiment
from tasray.config.paths import set_path

# Data fields that change how data is fetched or evaluated, not the weights a teacher learns.
NOT_TEACHER_INPUTS = {"download", "loader_workers", "eval_batch_size"}
# Bounds that keep parsing fast whatever the input: experiment files are a few kilobytes.
MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_NODES = 20_000
"""Nesting levels and values (after expanding aliases) a YAML document may have."""


class LimitError(yaml.YAMLError):
    """A document beyond the parsing bounds (too deep, too many values once aliases expand)."""


# Experiment fields that never change a trial's row: where it is stored and run, and the trials
# beside it (a baseline trial hashes its own baseline entry).
NOT_TRIAL_INPUTS = {"name", "storage_path", "resources", "sweep", "baselines"}


class ExperimentLoader(yaml.SafeLoader):
    """Safe YAML with two fixes for config files: duplicate keys are errors (PyYAML keeps the last
    one silently), and ``1e-3`` is a float (YAML 1.1 wants ``1.0e-3`` and reads ``1e-3`` as text).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        # PyYAML composes recursively: stop deep nesting before Python's recursion limit does.
        self.depth = getattr(self, "depth", 0) + 1
        try:
            if self.depth > MAX_DEPTH:
                raise LimitError(f"nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


ExperimentLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def check_bounds(node: yaml.Node) -> None:
    """Reject a composed document that is too deep or too large once its aliases are expanded.

    Sizes are counted without expanding anything (memoised per node), so an alias bomb costs
    microseconds to measure instead of minutes and gigabytes to build.

    Raises:
        LimitError: more than MAX_DEPTH levels, more than MAX_NODES values, or an alias to itself.
    """
    _measure(node, 1, {}, set())


def _measure(
    node: yaml.Node, level: int, seen: dict[int, tuple[int, int]], path: set[int]
) -> tuple[int, int]:
    """(values, levels) under `node` at nesting `level`; `path` holds the nodes above it."""
    if level > MAX_DEPTH:
        raise LimitError(f"nested more than {MAX_DEPTH} levels deep (with aliases expanded)")
    if id(node) in path:
        raise LimitError("an alias refers to a value that contains it")
    if id(node) not in seen:
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else []
        path.add(id(node))
        size, height = 1, 1
        for child in children:
            child_size, child_height = _measure(child, level + 1, seen, path)
            size, height = min(size + child_size, MAX_NODES + 1), max(height, child_height + 1)
        path.discard(id(node))
        seen[id(node)] = size, height
    size, height = seen[id(node)]
    if level + height - 1 > MAX_DEPTH:
        raise LimitError(f"nested more than {MAX_DEPTH} levels deep (with aliases expanded)")
    if size > MAX_NODES:
        raise LimitError(f"expands to more than {MAX_NODES:,} values (YAML aliases)")
    return size, height


def parse_yaml(text: str, source: str) -> Any:
    """YAML text as Python data; a syntax error is a one-line ConfigError naming `source`.

    Parsing is bounded: nesting depth and the size after alias expansion are checked on the
    composed document, before any value is built (an alias bomb is rejected in milliseconds).
    """
    try:
        return _compose_and_build(text)
    except LimitError as err:
        raise ConfigError(f"{source}: rejected: {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{source}: not valid YAML{where}: {' '.join(problem.split())}") from None


def _compose_and_build(text: str) -> Any:
    """Compose the document, check its bounds, then build its Python values."""
    loader = ExperimentLoader(text)  # reads (and checks the characters of) the text at once
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_bounds(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


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
    storage.write_bytes(str(path), yaml.safe_dump(exp.model_dump(mode="json"), sort_keys=False).encode())
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


def teacher_key(exp: Experiment) -> str:
    """The cache key of the trained unpruned network: what determines its weights.

    Data settings that do not change the weights (download, loader workers, eval batch size) are
    left out, so changing them does not retrain the teacher.
    """
    return config_hash(_data_inputs(exp), exp.model, exp.teacher, exp.seed)


def _result_inputs(exp: Experiment) -> dict[str, Any]:
    data = exp.model_dump(mode="json", exclude=NOT_TRIAL_INPUTS)
    data["data"] = _data_inputs(exp)
    return data


def trial_key(exp: Experiment, method: str, baseline_index: int | None = None) -> str:
    """The content hash of what determines one trial's results row (its ``config_hash``).

    Resources, the sweep's size and concurrency, the other trials, loader workers and the storage
    path are left out, so a bigger sweep or another cluster reuses every finished row.

    Args:
        exp: the trial's experiment (a TAS trial's has the sweep's values set).
        method: the registered method name, e.g. ``tas`` or ``fixed_ratio``.
        baseline_index: position of the trial's entry in ``exp.baselines``, None for TAS.
    """
    baseline = None if baseline_index is None else exp.baselines[baseline_index].model_dump(mode="json")
    return config_hash(_result_inputs(exp), method, baseline)


def sweep_key(exp: Experiment) -> str:
    """The hash of what decides which trials a sweep proposes, whatever its size and concurrency."""
    sweep = exp.sweep.model_dump(mode="json", include={"algorithm", "space", "points_to_evaluate"})
    return config_hash(_result_inputs(exp), sweep, [b.model_dump(mode="json") for b in exp.baselines])
