"""Set a value at a dotted path (``search.epochs``) in raw experiment data, guided by the schema.

The schema decides how a path splits: below a mapping field such as ``sweep.space`` the rest of
the path is one key (``sweep.space.search.target_ratio``), and below a list a part is an index
(``baselines.0.transfer``). Unknown names are errors that list what is allowed.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel

from tasray.config.baselines import baseline_model
from tasray.config.errors import ConfigError
from tasray.config.schema import unwrap
from tasray.plural import plural


def set_path(data: dict[str, Any], path: str, value: Any, root: type[BaseModel]) -> None:
    """Set `value` at the dotted `path` inside `data`, an unvalidated dump of a `root` model.

    Raises:
        ConfigError: the path names no field, or crosses a value that is not a mapping or list.
    """
    parts = path.split(".")
    if not all(parts):
        raise ConfigError(f"{path!r}: not a dotted key path such as search.epochs")
    node: Any = data
    annotation: Any = root
    for depth, part in enumerate(parts):
        annotation, _ = unwrap(annotation, ())
        last = depth == len(parts) - 1
        done = ".".join(parts[:depth])
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = annotation.model_fields
            if part not in fields:
                where = f"in {done}" if done else "at top level"
                allowed = ", ".join(sorted(fields))
                raise ConfigError(f"{path}: unknown key {part!r} {where}; allowed: {allowed}")
            annotation = fields[part].annotation
        elif get_origin(annotation) is dict:
            _mapping(node, done)[".".join(parts[depth:])] = value
            return
        elif get_origin(annotation) is list:
            annotation, item = _list_item(node, part, path, done, annotation)
            if last:
                node[int(part)] = value
            node = item
            continue
        else:
            raise ConfigError(f"{path}: {done} is a single value, not a section")
        if last:
            _mapping(node, done)[part] = value
        else:
            empty: Any = [] if get_origin(unwrap(annotation, ())[0]) is list else {}
            node = _mapping(node, done).setdefault(part, empty)


def _mapping(node: Any, where: str) -> dict[str, Any]:
    if not isinstance(node, dict):
        where = where or "experiment"
        raise ConfigError(f"{where} = {node!r}: must be a mapping of keys to values")
    return node


def _list_item(node: Any, part: str, path: str, where: str, annotation: Any) -> tuple[Any, Any]:
    """The schema and the data of item `part` (an index) of the list `node`."""
    if not isinstance(node, list):
        raise ConfigError(f"{path}: {where} must be a list to index it")
    if not part.isdigit() or int(part) >= len(node):
        raise ConfigError(f"{path}: {where} has {plural(len(node), 'item')}; {part!r} is not an index of one")
    item = node[int(part)]
    item_type, _ = unwrap(get_args(annotation)[0], ())
    member = baseline_model(item.get("method")) if isinstance(item, dict) else None
    return member or item_type, item
