"""Analytic cost of a ResNet: exact FLOPs/params of an ArchSpec, expected FLOPs of the search space,
and the piecewise cost loss of Eq. 8.

FLOPs are multiply-accumulates (MACs), the convention of the TAS paper ("FLOPs" in its tables); multiply
by 2 for the FLOPs of profilers such as `torch.utils.flop_counter`. Convolutions, projection shortcuts
and the classifier are counted; BatchNorm, ReLU, pooling and additions are not (as in the paper).

Both the exact and the expected count walk one list of `ConvTerm`s, so they cannot disagree about the
topology: the expected count of a one-hot distribution equals the exact count of its argmax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import torch

from tasray.arch import ArchSpec
from tasray.family import ResNetFamily, get_family

WidthRef = tuple[str, int]  # ("conv", index) | ("stage", index) | ("const", channels)


@dataclass(frozen=True)
class ConvTerm:
    """One conv (or the classifier) of the network.

    `gate` is (stage, block) for layers inside a residual block, which exist only if the stage keeps
    that block. A `conditional` term is a projection shortcut that the pruned network adds only when
    the block's input and output widths differ (see `models/resnet.py`).
    """

    name: str
    in_ref: WidthRef
    out_ref: WidthRef
    kernel: int
    out_hw: tuple[int, int]
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
    terms = [ConvTerm("stem", ("const", in_channels), ("conv", 0), kernel, stem_hw)]
    hw, block_in = after_pool, ("conv", 0)
    for stage, depth in enumerate(family.stage_depths):
        for block in range(depth):
            stride = family.stage_strides[stage] if block == 0 else 1
            prev = block_in
            for position, k in enumerate(family.block_kernels):
                if position == family.stride_conv:
                    hw = tuple(conv_out(s, k, stride, k // 2) for s in hw)
                index = family.conv_index(stage, block, position)
                terms.append(
                    ConvTerm(
                        f"stage{stage}.block{block}.conv{position}",
                        prev,
                        ("conv", index),
                        k,
                        hw,
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
                    gate=(stage, block),
                    conditional=not family.source_has_projection(stage, block),
                )
            )
            block_in = prev
        block_in = ("stage", stage)
    terms.append(ConvTerm("fc", block_in, ("const", num_classes), 1, (1, 1), batchnorm=False))
    return tuple(terms)


def _terms_of(spec: ArchSpec) -> tuple[ConvTerm, ...]:
    return cost_terms(spec.model, spec.in_channels, spec.input_size, spec.num_classes)


def stage_output_conv(family: ResNetFamily, stage: int, depth: int) -> int:
    """Conv index whose width is the output width of `stage` when it keeps `depth` blocks."""
    return family.conv_index(stage, depth - 1, len(family.block_kernels) - 1)


def _exact_width(ref: WidthRef, spec: ArchSpec, family: ResNetFamily) -> int:
    kind, value = ref
    if kind == "conv":
        return spec.widths[value]
    if kind == "stage":
        return spec.widths[stage_output_conv(family, value, spec.depths[value])]
    return value


def _present_layers(spec: ArchSpec):
    """(term, input width, output width) for every layer the pruned network really computes."""
    family = spec.family
    for term in _terms_of(spec):
        if term.gate is not None and term.gate[1] >= spec.depths[term.gate[0]]:
            continue
        cin, cout = _exact_width(term.in_ref, spec, family), _exact_width(term.out_ref, spec, family)
        if term.conditional and cin == cout:
            continue
        yield term, cin, cout


def count_flops(spec: ArchSpec) -> int:
    """Multiply-accumulates of one forward pass of one image through the pruned network."""
    return sum(t.macs_per_channel_pair * cin * cout for t, cin, cout in _present_layers(spec))


def count_params(spec: ArchSpec) -> int:
    """Learnable parameters: conv weights, BatchNorm affine pairs, classifier weight and bias."""
    total = 0
    for term, cin, cout in _present_layers(spec):
        total += term.kernel * term.kernel * cin * cout + (2 * cout if term.batchnorm else cout)
    return total


def flop_ratio(spec: ArchSpec) -> float:
    """FLOPs of `spec` relative to its unpruned source network at the same input."""
    full = ArchSpec.full(spec.model, spec.num_classes, spec.in_channels, spec.input_size)
    return count_flops(spec) / count_flops(full)


@dataclass
class WidthDistribution:
    """Candidate widths of one conv and the probability of each (a differentiable tensor)."""

    widths: torch.Tensor  # float, shape (K,)
    probs: torch.Tensor  # shape (K,), sums to 1

    def mean(self) -> torch.Tensor:
        return (self.widths * self.probs).sum()


@dataclass
class DepthDistribution:
    depths: Sequence[int]
    probs: torch.Tensor

    def keeps(self, block: int) -> torch.Tensor:
        """Probability that the stage keeps block `block` (0-based)."""
        mask = torch.tensor(
            [d > block for d in self.depths], dtype=self.probs.dtype, device=self.probs.device
        )
        return (self.probs * mask).sum()


def expected_flops(
    spec: ArchSpec, widths: Sequence[WidthDistribution], depths: Sequence[DepthDistribution]
) -> torch.Tensor:
    """E_cost(A): MACs averaged over the architecture distribution (paper Eq. 8).

    Widths of different convs and depths of different stages are independent, so the expected MACs
    of a conv are E[c_in]·E[c_out]·k²HW times the probability that its block exists. A stage's
    output width is a mixture over its depths. `spec` supplies the model and input geometry only.
    """
    family = spec.family

    def mean(ref: WidthRef) -> torch.Tensor | float:
        kind, value = ref
        if kind == "conv":
            return widths[value].mean()
        if kind == "stage":
            dist = depths[value]
            outs = torch.stack([widths[stage_output_conv(family, value, d)].mean() for d in dist.depths])
            return (dist.probs * outs).sum()
        return float(value)

    def same_width_mass(a: WidthRef, b: WidthRef) -> torch.Tensor:
        """E[c_in·c_out·1{c_in == c_out}] for two conv outputs (independent)."""
        wa, wb = widths[a[1]], widths[b[1]]
        equal = (wa.widths[:, None] == wb.widths[None, :]).to(wa.probs.dtype)
        pair = wa.probs[:, None] * wb.probs[None, :] * wa.widths[:, None] ** 2
        return (pair * equal).sum()

    total = 0.0
    for term in _terms_of(spec):
        macs = mean(term.in_ref) * mean(term.out_ref)
        if term.conditional:  # only a block's identity shortcut: both ends are conv outputs
            macs = macs - same_width_mass(term.in_ref, term.out_ref)
        if term.gate is not None:
            macs = macs * depths[term.gate[0]].keeps(term.gate[1])
        total = total + term.macs_per_channel_pair * macs
    return total


def cost_loss(expected: torch.Tensor, derived_ratio: float, target: float, tolerance: float) -> torch.Tensor:
    """Eq. 8: push log E_cost down when the derived net is too big, up when too small, else 0.

    `expected` is E_cost as a ratio to the unpruned FLOPs (a scale factor inside the log does not
    change the gradient); `derived_ratio` is F_cost(A) as a ratio; `target` is R.
    """
    if derived_ratio > (1 + tolerance) * target:
        return torch.log(expected)
    if derived_ratio < (1 - tolerance) * target:
        return -torch.log(expected)
    return expected.new_zeros(())


def ratio_bounds(target: float, tolerance: float) -> tuple[float, float]:
    return (1 - tolerance) * target, (1 + tolerance) * target


__all__ = [
    "ConvTerm",
    "DepthDistribution",
    "WidthDistribution",
    "cost_loss",
    "cost_terms",
    "count_flops",
    "count_params",
    "expected_flops",
    "flop_ratio",
    "ratio_bounds",
    "stem_geometry",
    "conv_out",
]
