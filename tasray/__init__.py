"""tasray: network pruning via Transformable Architecture Search (Dong & Yang, NeurIPS 2019), on Ray."""

from importlib import import_module

__version__ = "0.1.0"
__all__ = ["ArchSpec", "ArchSpecError", "create_model", "list_models", "__version__"]

# Imported on first use: a process that loads one small module (a Ray actor holding a lock, the
# CLI parsing its arguments) then does not import torch through the package.
_HOMES = {
    "ArchSpec": "tasray.spec.arch",
    "ArchSpecError": "tasray.spec.arch",
    "create_model": "tasray.models",
    "list_models": "tasray.models",
}


def __getattr__(name: str) -> object:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'tasray' has no attribute {name!r}")
