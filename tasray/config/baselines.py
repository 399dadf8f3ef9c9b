"""``baselines:`` entries, each validated by the config model that its method registered.

The list of allowed methods and their settings is the method registry's (`tasray.methods`), so a
method added there is accepted here with nothing else to edit.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainValidator, SerializeAsAny

from tasray.config.errors import field_error
from tasray.config.sections import BaselineSection
from tasray.methods.registry import METHODS, baseline_methods


def baseline_model(method: Any) -> type[BaselineSection] | None:
    """The config model of the baseline method named `method`, or None for any other value."""
    if not isinstance(method, str) or method not in METHODS:
        return None
    return METHODS.get(method).config


def validate_baseline(value: Any) -> BaselineSection:
    """One ``baselines:`` entry, validated by its method's config model."""
    if isinstance(value, BaselineSection):
        return value
    allowed = ", ".join(repr(m.name) for m in baseline_methods())
    if not isinstance(value, dict):
        raise ValueError(f"must be a mapping with a method, one of {allowed}")
    model = baseline_model(value.get("method"))
    if model is None:
        requirement = "required; must be" if "method" not in value else "must be"
        raise field_error("method", value.get("method"), f"{requirement} one of {allowed}")
    return model.model_validate(value)


Baseline = Annotated[SerializeAsAny[BaselineSection], PlainValidator(validate_baseline)]
"""A ``baselines:`` entry of any registered baseline method."""
