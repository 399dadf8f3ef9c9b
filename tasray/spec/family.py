"""ResNet families: the fixed topology (blocks, strides, maximum widths) that an ArchSpec prunes.

A family is data, not a module. The plain network (`resnet.py`), the searchable super-network
(`search.py`) and the analytic cost model (`tas/cost.py`) are all built from it, so they agree on
which conv is which: conv 0 is the stem, then every block's convs in order, stage by stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tasray.registry import Registry

FAMILIES: Registry[ResNetFamily] = Registry("model")


@dataclass(frozen=True)
class ResNetFamily:
    """Topology of a ResNet.

    Args:
        name: registry name, e.g. ``cifar_resnet56``.
        block: ``basic`` (two 3×3 convs) or ``bottleneck`` (1×1, 3×3, 1×1 with 4× expansion).
        stage_depths: number of blocks per stage in the unpruned network.
        stage_planes: base width of each stage (a bottleneck's output is 4× this).
        stem: ``cifar`` (3×3 conv, stride 1) or ``imagenet`` (7×7 conv stride 2 + 3×3 max-pool).
        stem_width: output channels of the stem conv.
    """

    kind = "resnet"  # which network classes build it (`tasray.models.factory`)

    name: str
    block: Literal["basic", "bottleneck"]
    stage_depths: tuple[int, ...]
    stage_planes: tuple[int, ...]
    stem: Literal["cifar", "imagenet"]
    stem_width: int

    @property
    def expansion(self) -> int:
        return 1 if self.block == "basic" else 4

    @property
    def block_kernels(self) -> tuple[int, ...]:
        """Kernel size of each conv in a block; the 3×3 conv carries the stage's stride."""
        return (3, 3) if self.block == "basic" else (1, 3, 1)

    @property
    def stride_conv(self) -> int:
        """Position, inside a block, of the conv that downsamples."""
        return 0 if self.block == "basic" else 1

    @property
    def stage_strides(self) -> tuple[int, ...]:
        return (1,) + (2,) * (len(self.stage_depths) - 1)

    @property
    def num_convs(self) -> int:
        return 1 + sum(self.stage_depths) * len(self.block_kernels)

    def block_max_widths(self, stage: int) -> tuple[int, ...]:
        planes = self.stage_planes[stage]
        if self.block == "basic":
            return (planes, planes)
        return (planes, planes, planes * self.expansion)

    def max_widths(self) -> tuple[int, ...]:
        """Width of every conv of the unpruned network, in conv-index order."""
        widths = [self.stem_width]
        for stage, depth in enumerate(self.stage_depths):
            widths.extend(self.block_max_widths(stage) * depth)
        return tuple(widths)

    def source_has_projection(self, stage: int, block: int) -> bool:
        """Whether the unpruned block has a 1×1 projection shortcut (it changes stride or width)."""
        if block > 0:
            return False
        in_width = self.stem_width if stage == 0 else self.block_max_widths(stage - 1)[-1]
        return self.stage_strides[stage] != 1 or in_width != self.block_max_widths(stage)[-1]

    def conv_index(self, stage: int, block: int, position: int) -> int:
        """Index of a block's conv in the flat width list of an ArchSpec."""
        before = sum(self.stage_depths[:stage]) + block
        return 1 + before * len(self.block_kernels) + position


def get_family(name: str) -> ResNetFamily:
    """The family registered under `name`; an unknown name lists the known ones."""
    return FAMILIES.get(name)


def _register(name: str, block: str, depths: tuple[int, ...], stem: str) -> None:
    planes, stem_width = ((16, 32, 64), 16) if stem == "cifar" else ((64, 128, 256, 512), 64)
    family = ResNetFamily(name, block, depths, planes, stem, stem_width)  # type: ignore[arg-type]
    FAMILIES.register(name)(family)


# CIFAR ResNets (He et al. 2016, Sec. 4.2): depth = 6n + 2 with basic blocks, 9n + 2 with bottlenecks.
for _depth in (20, 32, 44, 56, 110):
    _register(f"cifar_resnet{_depth}", "basic", ((_depth - 2) // 6,) * 3, "cifar")
_register("cifar_resnet164", "bottleneck", (18, 18, 18), "cifar")
# ImageNet ResNets (He et al. 2016, Table 1).
_register("resnet18", "basic", (2, 2, 2, 2), "imagenet")
_register("resnet34", "basic", (3, 4, 6, 3), "imagenet")
_register("resnet50", "bottleneck", (3, 4, 6, 3), "imagenet")
_register("resnet101", "bottleneck", (3, 4, 23, 3), "imagenet")
