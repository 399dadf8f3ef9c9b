"""Turn pydantic validation errors into one line that names the field, the value and the rule.

Users see ``search.target_ratio = 1.5: must be in (0, 1]``, never pydantic's multi-line report.
Range wording is rebuilt from the field's own constraints, so both bounds are shown even when
pydantic reports only the one that was crossed.
"""

from __future__ import annotations

import json
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticCustomError

from tasray.errors import TasrayError

FIELD_ERROR = "tasray_field"
BOUND_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
MAPPING_ERRORS = {"model_type", "model_attributes_type", "dict_type"}


class ConfigError(TasrayError, ValueError):
    """An experiment file, override or value that does not fit the schema. One line."""


def field_error(field: str, value: Any, requirement: str) -> PydanticCustomError:
    """An error a model validator raises about one of its fields (a dotted path relative to it).

    Without it, pydantic would blame the whole section instead of the field.
    """
    ctx = {"field": field, "value": value, "requirement": requirement}
    return PydanticCustomError(FIELD_ERROR, "{requirement}", ctx)


def show(value: Any) -> str:
    """A short, one-line rendering of a user value."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class Problem:
    """One validation problem: where, the offending value, and what is allowed."""

    path: str
    value: str
    requirement: str

    def __str__(self) -> str:
        return f"{self.path} = {self.value}: {self.requirement}"


@dataclass(frozen=True)
class Message:
    """A problem whose sentence does not fit the ``path = value: rule`` shape."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Location:
    """Where an error location points inside a schema."""

    path: str = ""
    annotation: Any = None
    constraints: tuple[Any, ...] = ()


def unwrap(annotation: Any, constraints: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    """Strip ``Annotated`` (collecting its constraints) and ``X | None``."""
    while True:
        if get_origin(annotation) is Annotated:
            base, *extra = get_args(annotation)
            for item in extra:
                constraints += tuple(item.metadata) if isinstance(item, FieldInfo) else (item,)
            annotation = base
        elif get_origin(annotation) in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation, constraints
            annotation = members[0]
        else:
            return annotation, constraints


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def locate(root: type[BaseModel], loc: tuple[str | int, ...]) -> Location:
    """Follow a pydantic error location through the schema of `root`.

    Discriminated-union tags that pydantic inserts into locations are dropped from the path.
    """
    here = Location(annotation=root)
    for item in loc:
        annotation, _ = unwrap(here.annotation, ())
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(item))
            if field is None:
                return Location(_join(here.path, str(item)))
            here = Location(_join(here.path, str(item)), field.annotation, tuple(field.metadata))
        elif get_origin(annotation) in (list, tuple) and isinstance(item, int):
            items = get_args(annotation)  # list[X] has one; tuple[X, Y] one per position
            here = Location(f"{here.path}[{item}]", items[min(item, len(items) - 1)])
        elif get_origin(annotation) is dict:
            here = Location(_join(here.path, str(item)), get_args(annotation)[1])
        elif get_origin(annotation) in (Union, types.UnionType):
            here = Location(here.path, union_member(annotation, str(item)))
        else:
            return Location(_join(here.path, str(item)))
    annotation, constraints = unwrap(here.annotation, here.constraints)
    return Location(here.path, annotation, constraints)


def union_member(union: Any, tag: str) -> Any:
    """The model of a discriminated union (on ``method``) that `tag` selects, or None."""
    for member in get_args(union):
        field = getattr(member, "model_fields", {}).get("method")
        if field is not None and get_args(field.annotation) == (tag,):
            return member
    return None


def _number(bound: Any) -> str:
    """A bound as written: integers in full (seed <= 4294967295), floats short (1e-05)."""
    return str(bound) if isinstance(bound, int) else f"{bound:g}"


def interval(constraints: tuple[Any, ...]) -> str | None:
    """``must be in (0, 1]``-style wording for numeric bounds, or None without bounds."""
    low = high = None
    for item in constraints:
        if isinstance(item, at.Gt):
            low = f"({_number(item.gt)}"
        elif isinstance(item, at.Ge):
            low = f"[{_number(item.ge)}"
        elif isinstance(item, at.Lt):
            high = f"{_number(item.lt)})"
        elif isinstance(item, at.Le):
            high = f"{_number(item.le)}]"
    if low and high:
        return f"must be in {low}, {high}"
    if low:
        return f"must be {'>' if low[0] == '(' else '>='} {low[1:]}"
    if high:
        return f"must be {'<' if high[-1] == ')' else '<='} {high[:-1]}"
    return None


def _clean(message: str) -> str:
    """Pydantic's sentence as a rule: 'Input should be a valid integer' → 'must be ...'."""
    message = message.removeprefix("Value error, ").replace("Input should be", "must be")
    message = message.split(", unable to")[0]  # pydantic's parser detail adds nothing
    return (message[:1].lower() + message[1:]).replace("\n", " ")


def _allowed_keys(annotation: Any) -> str:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ", ".join(sorted(annotation.model_fields))
    return "none"


def describe(error: ErrorDetails, root: type[BaseModel]) -> Problem | Message:
    """One pydantic error of a `root` model, as a one-line problem."""
    kind, loc, ctx = error["type"], tuple(error["loc"]), error.get("ctx", {})
    if kind == FIELD_ERROR:
        path = _join(locate(root, loc).path, ctx["field"])
        return Problem(path, show(ctx["value"]), ctx["requirement"])
    if kind == "extra_forbidden":
        parent = locate(root, loc[:-1])
        where = f"in {parent.path}" if parent.path else "at top level"
        return Message(f"unknown key {loc[-1]!r} {where}; allowed: {_allowed_keys(parent.annotation)}")
    here = locate(root, loc)
    if kind == "missing":
        return Message(f"{here.path}: required key is missing")
    if kind == "union_tag_not_found":
        return Message(f"{here.path}.method: required; must be one of {_tags(here.annotation)}")
    if kind == "union_tag_invalid":
        return Problem(
            _join(here.path, "method"), show(ctx["tag"]), f"must be one of {_tags(here.annotation)}"
        )
    if kind in BOUND_ERRORS:
        requirement = interval(here.constraints) or _clean(error["msg"])
    elif kind == "literal_error":
        requirement = f"must be one of {ctx['expected']}"
    elif kind in MAPPING_ERRORS:
        requirement = "must be a mapping of keys to values"
    else:
        requirement = _clean(error["msg"])
    return Problem(here.path or "experiment", show(error["input"]), requirement)


def _tags(union: Any) -> str:
    members = get_args(union) if get_origin(union) in (Union, types.UnionType) else ()
    tags = [get_args(m.model_fields["method"].annotation)[0] for m in members]
    return ", ".join(repr(t) for t in tags) or "a known method"


def config_error(error: ValidationError, root: type[BaseModel], prefix: str = "") -> ConfigError:
    """The first problem of `error`, as a ConfigError; `prefix` names the file it came from."""
    return ConfigError(f"{prefix}{describe(error.errors(include_url=False)[0], root)}")
