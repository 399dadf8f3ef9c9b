"""Spec and topology: the ArchSpec every method produces, the model families it prunes, and the
layer list that costs and weight transfer walk."""

from tasray.spec.arch import ArchSpec, ArchSpecError
from tasray.spec.family import FAMILIES, ResNetFamily, get_family

__all__ = ["FAMILIES", "ArchSpec", "ArchSpecError", "ResNetFamily", "get_family"]
