"""tasray: network pruning via Transformable Architecture Search (Dong & Yang, NeurIPS 2019), on Ray."""

from tasray.models import create_model, list_models
from tasray.spec.arch import ArchSpec, ArchSpecError

__version__ = "0.1.0"
__all__ = ["ArchSpec", "ArchSpecError", "create_model", "list_models", "__version__"]
