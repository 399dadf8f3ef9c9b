"""Pruning methods. `registry` is light (the config schema reads it); `context` holds what a method
receives and returns; `tas` registers TAS and its variants. The baselines live in the top-level
`baselines` package."""

from tasray.methods.registry import (
    METHODS,
    Method,
    baseline_methods,
    method_label,
    register_method,
    search_methods,
)

__all__ = ["METHODS", "Method", "baseline_methods", "method_label", "register_method", "search_methods"]
