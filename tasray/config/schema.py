"""Following a place in raw experiment data through the pydantic schema that validates it.

`set_path` walks it by a dotted `--set` path, error messages by pydantic's error locations.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo


def unwrap(annotation: Any, constraints: tuple[Any, ...] = ()) -> tuple[Any, tuple[Any, ...]]:
    """Strip ``Annotated`` (collecting its constraints) and ``X | None``."""
    while True:
        if get_origin(annotation) is Annotated:
            base, *extra = get_args(annotation)
            for item in extra:
                constraints += tuple(item.metadata) if isinstance(item, FieldInfo) else (item,)
            annotation = base
        elif get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation, constraints
            annotation = members[0]
        else:
            return annotation, constraints


def locate(root: type[BaseModel], loc: tuple[str | int, ...]) -> tuple[str, tuple[Any, ...]]:
    """The dotted path (``baselines[0].criterion``) of a pydantic error location inside a `root`
    model, and the constraints (bounds) the schema puts on the value there.

    A part that names nothing in a union of models (the member tag pydantic adds) is left out of
    the path. Where the schema cannot be followed (an entry validated by a function), the path
    keeps every part and no constraint is known.
    """
    path, annotation, constraints = "", root, ()
    for part in loc:
        annotation, constraints = unwrap(annotation, constraints)
        if isinstance(part, int):  # an item of a list or tuple
            items = get_args(annotation) if get_origin(annotation) in (list, tuple) else (None,)
            path, annotation, constraints = f"{path}[{part}]", items[min(part, len(items) - 1)], ()
            continue
        models = models_of(annotation)
        fields = [model.model_fields[part] for model in models if part in model.model_fields]
        if fields:
            path, annotation, constraints = join(path, part), fields[0].annotation, tuple(fields[0].metadata)
        elif len(models) < 2:  # a key of a mapping, or where the schema is not known
            value = get_args(annotation)[1] if get_origin(annotation) is dict else None
            path, annotation, constraints = join(path, part), value, ()
    return path, unwrap(annotation, constraints)[1]


def models_of(annotation: Any) -> list[type[BaseModel]]:
    """The models `annotation` stands for: itself, or the members of a union of models."""
    members = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    return [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]


def join(path: str, key: str) -> str:
    """``search`` + ``epochs`` → ``search.epochs``; either may be empty."""
    return f"{path}.{key}" if path and key else path or key
