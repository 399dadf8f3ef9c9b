"""Pydantic's structured errors as one line: ``search.target_ratio = 1.5: must be in (0, 1]``.

An error's location, input and context say where, what and why; the line names the first error
and counts the others. A range shows both bounds of the field, as its schema writes them, where
pydantic's context has only the one that was crossed.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from tasray.config.schema import join, locate
from tasray.errors import TasrayError

FIELD_ERROR = "tasray_field"
UNKNOWN_KEY = "tasray_unknown_key"
BOUNDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
MAPPING_ERRORS = {"model_type", "model_attributes_type", "dict_type"}


class ConfigError(TasrayError, ValueError):
    """An experiment file, override or value that does not fit the schema. One line."""


def field_error(field: str, value: Any, requirement: str) -> PydanticCustomError:
    """An error a model validator raises about one of its fields (a dotted path relative to it).

    Without it, pydantic would blame the whole section instead of the field.
    """
    ctx = {"field": field, "value": value, "requirement": requirement}
    return PydanticCustomError(FIELD_ERROR, "{requirement}", ctx)


def unknown_key(key: Any, model: type[BaseModel]) -> PydanticCustomError:
    """The error for a key `model` does not have; it lists the keys it has (pydantic's does not)."""
    ctx = {"key": key, "allowed": ", ".join(sorted(model.model_fields))}
    return PydanticCustomError(UNKNOWN_KEY, "unknown key {key!r}; allowed: {allowed}", ctx)


def show(value: Any) -> str:
    """A short, one-line rendering of a user value."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def config_error(error: ValidationError, root: type[BaseModel], prefix: str = "") -> ConfigError:
    """The first problem of `error` in one line, with how many more; `prefix` names the file."""
    errors = error.errors(include_url=False)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ConfigError(f"{prefix}{describe(errors[0], root)}{more}")


def describe(error: ErrorDetails, root: type[BaseModel]) -> str:
    """One pydantic error of a `root` model: the field's dotted path, the value, what is allowed."""
    kind, ctx = error["type"], error.get("ctx", {})
    path, _ = locate(root, error["loc"])
    if kind == UNKNOWN_KEY:
        where = f"in {path}" if path else "at top level"
        return f"unknown key {ctx['key']!r} {where}; allowed: {ctx['allowed']}"
    if kind in ("missing", "union_tag_not_found"):
        key = ctx["discriminator"].strip("'") if "discriminator" in ctx else ""
        return f"{join(path, key)}: required key is missing"
    value = error["input"]
    if kind == FIELD_ERROR:
        path, value = join(path, ctx["field"]), ctx["value"]
    elif kind == "union_tag_invalid":
        path, value = join(path, ctx["discriminator"].strip("'")), ctx["tag"]
    return f"{path or 'experiment'} = {show(value)}: {requirement(error, root)}"


def requirement(error: ErrorDetails, root: type[BaseModel]) -> str:
    """What the value of one pydantic error of a `root` model must be, e.g. ``must be in (0, 1]``."""
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == FIELD_ERROR:
        return ctx["requirement"]
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        _, constraints = locate(root, error["loc"])
        bounds = {k: getattr(c, k) for c in constraints for k in BOUNDS if getattr(c, k, None) is not None}
        return interval({**ctx, **bounds})
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}"
    if kind == "union_tag_invalid":
        return f"must be one of {ctx['expected_tags']}"
    if kind in MAPPING_ERRORS:
        return "must be a mapping of keys to values"
    message = error["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    message = message.split(", unable to")[0]  # pydantic's parser detail adds nothing
    return (message[:1].lower() + message[1:]).replace("\n", " ")


def interval(bounds: dict[str, Any]) -> str:
    """``must be in (0, 1]`` for two bounds, ``must be >= 2`` for one (keys as in BOUNDS)."""
    text = {key: f"{bound:g}" if isinstance(bound, float) else str(bound) for key, bound in bounds.items()}
    low = next((key for key in text if key in ("gt", "ge")), None)
    high = next((key for key in text if key in ("lt", "le")), None)
    if low and high:
        left, right = "(" if low == "gt" else "[", ")" if high == "lt" else "]"
        return f"must be in {left}{text[low]}, {text[high]}{right}"
    key = low or high
    return f"must be {BOUNDS[key]} {text[key]}"
