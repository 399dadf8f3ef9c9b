"""FLOPs as a cost: the exact multiply-accumulates of an ArchSpec, and the expected MACs of the
search's architecture distribution (paper Eq. 8's E_cost).

FLOPs are multiply-accumulates (MACs), the convention of the TAS paper ("FLOPs" in its tables); multiply
by 2 for the FLOPs of profilers such as `torch.utils.flop_counter`. Convolutions, projection shortcuts
and the classifier are counted; BatchNorm, ReLU, pooling and additions are not (as in the paper).

Both the exact and the expected count walk `tasray.spec.topology`'s layer list, so the expected count
of a one-hot distribution equals the exact count of its argmax.
"""

from __future__ import annotations

import torch

from tasray.costs.base import COSTS, ArchDistribution, Cost
from tasray.spec.arch import ArchSpec
from tasray.spec.topology import WidthRef, layer_terms, present_layers, stage_output_conv


def count_flops(spec: ArchSpec) -> int:
    """Multiply-accumulates of one forward pass of one image through the pruned network."""
    return sum(t.macs_per_channel_pair * cin * cout for t, cin, cout in present_layers(spec))


def count_params(spec: ArchSpec) -> int:
    """Learnable parameters: conv weights, BatchNorm affine pairs, classifier weight and bias."""
    total = 0
    for term, cin, cout in present_layers(spec):
        total += term.kernel * term.kernel * cin * cout + (2 * cout if term.batchnorm else cout)
    return total


def flop_ratio(spec: ArchSpec) -> float:
    """FLOPs of `spec` relative to its unpruned source network at the same input."""
    return count_flops(spec) / count_flops(spec.unpruned())


def expected_flops(distribution: ArchDistribution) -> torch.Tensor:
    """E_cost(A): MACs averaged over the architecture distribution (paper Eq. 8).

    Widths of different convs and depths of different stages are independent, so the expected MACs
    of a conv are E[c_in]·E[c_out]·k²HW times the probability that its block exists. A stage's
    output width is a mixture over its depths.
    """
    spec, widths, depths = distribution.spec, distribution.widths, distribution.depths
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
    for term in layer_terms(spec):
        macs = mean(term.in_ref) * mean(term.out_ref)
        if term.conditional:  # only a block's identity shortcut: both ends are conv outputs
            macs = macs - same_width_mass(term.in_ref, term.out_ref)
        if term.gate is not None:
            macs = macs * depths[term.gate[0]].keeps(term.gate[1])
        total = total + term.macs_per_channel_pair * macs
    return total


@COSTS.register("flops")
class FlopsCost(Cost):
    """Multiply-accumulates of one image (the paper's cost)."""

    name, label, ratio_column = "flops", "FLOPs", "flop_ratio"

    def exact(self, spec: ArchSpec) -> float:
        return float(count_flops(spec))

    def expected(self, distribution: ArchDistribution) -> torch.Tensor:
        return expected_flops(distribution)
