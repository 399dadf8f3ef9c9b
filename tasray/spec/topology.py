"""The cost-carrying layers of a network family's topology, as data: which conv feeds which.

FLOPs, parameters, the latency table and `init` transfer all walk one list of `ConvTerm`s, so they
cannot disagree about the topology: conv 0 is the stem, then every block's convs in order, stage by
stage, each block followed by its shortcut, and the classifier last.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Literal

from tasray.spec.arch import ArchSpec
from tasray.spec.family import ResNetFamily, get_family

WidthRef = tuple[str, int]  # ("conv", index) | ("stage", index) | ("const", channels)
Role = Literal["stem", "inner", "last", "shortcut", "classifier"]
"""Where a layer sits: the stem; a block's conv followed by a ReLU (inner) or by the residual
addition (last); a block's projection shortcut; the classifier."""


@dataclass(frozen=True)
class ConvTerm:
    """One conv (or the classifier) of the network.

    `gate` is (stage, block) for layers inside a residual block, which exist only if the stage keeps
    that block. A `conditional` term is a projection shortcut that the pruned network adds only when
    the block's input and output widths differ (see `models/resnet.py`). `in_hw`, `stride` and
    `role` say what a measured latency table needs to rebuild the layer.
    """

    name: str
    in_ref: WidthRef
    out_ref: WidthRef
    kernel: int
    out_hw: tuple[int, int]
    in_hw: tuple[int, int]
    role: Role
    stride: int = 1
    gate: tuple[int, int] | None = None
    conditional: bool = False
    batchnorm: bool = True

    @property
    def macs_per_channel_pair(self) -> int:
        return self.kernel * self.kernel * self.out_hw[0] * self.out_hw[1]


def conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def stem_geometry(family: ResNetFamily, input_size: tuple[int, int]) -> tuple[int, int, tuple[int, int]]:
    """(kernel, stride, spatial size after the stem and, for ImageNet nets, its max-pool)."""
    kernel, stride = (3, 1) if family.stem == "cifar" else (7, 2)
    h, w = (conv_out(s, kernel, stride, kernel // 2) for s in input_size)
    if family.stem == "imagenet":
        h, w = conv_out(h, 3, 2, 1), conv_out(w, 3, 2, 1)
    return kernel, stride, (h, w)


@cache
def cost_terms(
    model: str, in_channels: int, input_size: tuple[int, int], num_classes: int
) -> tuple[ConvTerm, ...]:
    """Every cost-carrying layer of `model`'s unpruned topology, in forward order."""
    family = get_family(model)
    kernel, stride, after_pool = stem_geometry(family, input_size)
    stem_hw = tuple(conv_out(s, kernel, stride, kernel // 2) for s in input_size)
    terms = [
        ConvTerm("stem", ("const", in_channels), ("conv", 0), kernel, stem_hw, input_size, "stem", stride)
    ]
    hw, block_in = after_pool, ("conv", 0)
    last = len(family.block_kernels) - 1
    for stage, depth in enumerate(family.stage_depths):
        for block in range(depth):
            stride = family.stage_strides[stage] if block == 0 else 1
            prev, block_hw = block_in, hw
            for position, k in enumerate(family.block_kernels):
                in_hw, conv_stride = hw, stride if position == family.stride_conv else 1
                hw = tuple(conv_out(s, k, conv_stride, k // 2) for s in hw)
                index = family.conv_index(stage, block, position)
                terms.append(
                    ConvTerm(
                        f"stage{stage}.block{block}.conv{position}",
                        prev,
                        ("conv", index),
                        k,
                        hw,
                        in_hw,
                        "last" if position == last else "inner",
                        conv_stride,
                        gate=(stage, block),
                    )
                )
                prev = ("conv", index)
            terms.append(
                ConvTerm(
                    f"stage{stage}.block{block}.shortcut",
                    block_in,
                    prev,
                    1,
                    hw,
                    block_hw,
                    "shortcut",
                    stride,
                    gate=(stage, block),
                    conditional=not family.source_has_projection(stage, block),
                )
            )
            block_in = prev
        block_in = ("stage", stage)
    terms.append(
        ConvTerm("fc", block_in, ("const", num_classes), 1, (1, 1), hw, "classifier", batchnorm=False)
    )
    return tuple(terms)


def layer_terms(spec: ArchSpec) -> tuple[ConvTerm, ...]:
    """The `cost_terms` of `spec`'s model at its input geometry."""
    return cost_terms(spec.model, spec.in_channels, spec.input_size, spec.num_classes)


def stage_output_conv(family: ResNetFamily, stage: int, depth: int) -> int:
    """Conv index whose width is the output width of `stage` when it keeps `depth` blocks."""
    return family.conv_index(stage, depth - 1, len(family.block_kernels) - 1)


def exact_width(ref: WidthRef, spec: ArchSpec, family: ResNetFamily) -> int:
    kind, value = ref
    if kind == "conv":
        return spec.widths[value]
    if kind == "stage":
        return spec.widths[stage_output_conv(family, value, spec.depths[value])]
    return value


def present_layers(spec: ArchSpec) -> Iterator[tuple[ConvTerm, int, int]]:
    """(term, input width, output width) for every layer the pruned network really computes."""
    family = spec.family
    for term in layer_terms(spec):
        if term.gate is not None and term.gate[1] >= spec.depths[term.gate[0]]:
            continue
        cin, cout = exact_width(term.in_ref, spec, family), exact_width(term.out_ref, spec, family)
        if term.conditional and cin == cout:
            continue
        yield term, cin, cout


def residual_streams(spec: ArchSpec) -> list[list[int]]:
    """Conv indices grouped by the channels they must share: convs whose outputs meet in an identity
    addition of `spec`'s network (the stem and the outputs of a stage's identity blocks) form one
    group, since the addition sums their channels position by position; every other conv is a
    group of its own. A block with a projection shortcut (the teacher's, or one added because its
    input and output widths differ) starts a new group."""
    family = spec.family
    groups: dict[int, list[int]] = {index: [index] for index in range(len(spec.widths))}
    source = 0
    for stage, depth in enumerate(spec.depths):
        for block in range(depth):
            out = stage_output_conv(family, stage, block + 1)
            same_width = spec.widths[source] == spec.widths[out]
            identity = same_width and not family.source_has_projection(stage, block)
            if identity:
                groups[source].append(out)
                groups[out] = groups[source]
            source = out
    unique = {id(group): group for group in groups.values()}
    return sorted(unique.values())
