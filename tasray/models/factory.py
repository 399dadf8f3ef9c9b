"""One factory for the networks of every model family: the plain pruned network of an ArchSpec
and the searchable super-network over its family's widths and depths.

A family kind (`ResNetFamily.kind`) maps to the two classes that build its networks; a new kind
of family registers its pair here, and everything else (methods, stages, export, costs) builds
networks through `build_network` and `build_searchable` only.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from tasray.models.resnet import PrunedResNet
from tasray.models.search import SearchableResNet, SearchSpace
from tasray.registry import Registry
from tasray.spec.arch import ArchSpec


@dataclass(frozen=True)
class NetworkClasses:
    """The plain network class (built from an ArchSpec) and the searchable one of a family kind."""

    plain: type[nn.Module]
    searchable: type[nn.Module]


NETWORKS: Registry[NetworkClasses] = Registry("network kind")
NETWORKS.add("resnet", NetworkClasses(PrunedResNet, SearchableResNet))


def build_network(spec: ArchSpec) -> PrunedResNet:
    """The plain pruned network that `spec` describes, freshly initialised."""
    return NETWORKS.get(spec.family.kind).plain(spec)


def build_searchable(full_spec: ArchSpec, space: SearchSpace) -> SearchableResNet:
    """The super-network over every architecture of `space` within `full_spec`'s model."""
    return NETWORKS.get(full_spec.family.kind).searchable(full_spec, space)
