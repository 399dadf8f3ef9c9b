"""The units of a latency table: the pieces a pruned network's forward pass is the sum of.

Every layer of `tasray.spec.topology` becomes one or two units, each the very modules the plain
network (`models/resnet.py`) runs, called the way it calls them:

- ``stem``: conv + BatchNorm + ReLU (``stem_pool``: and the 3×3 max-pool of ImageNet ResNets);
- ``conv_bn_relu``: a block's conv followed by a ReLU;
- ``conv_bn``: a block's last conv, then ``add_relu``: the block itself (its call, the residual
  addition and the ReLU) around an empty branch, which depends on the output width only;
- ``shortcut``: a 1×1 projection (conv + BatchNorm), present when the block has one;
- ``head``: global average pooling and the classifier.

A unit is keyed by its op, input and output widths, kernel, stride and input size; the batch,
device and dtype are the table's. Units that share everything but the two widths form a grid,
over which a table interpolates widths it has not measured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from tasray.models.resnet import ResidualBlock, conv_bn
from tasray.spec.arch import ArchSpec
from tasray.spec.topology import ConvTerm, WidthRef, layer_terms, present_layers, stage_output_conv
from tasray.spec.widths import round_width

GridKey = tuple[str, int, int, tuple[int, int]]  # op, kernel, stride, input size


@dataclass(frozen=True, order=True)
class Unit:
    """One measured piece of a network (see the module docstring for the ops)."""

    op: str
    cin: int
    cout: int
    kernel: int
    stride: int
    hw: tuple[int, int]

    @property
    def grid(self) -> GridKey:
        """What the unit shares with the units of other widths of the same layer shape."""
        return self.op, self.kernel, self.stride, self.hw

    def to_list(self) -> list:
        return [self.op, self.cin, self.cout, self.kernel, self.stride, list(self.hw)]

    @classmethod
    def from_list(cls, data: list) -> Unit:
        op, cin, cout, kernel, stride, hw = data
        return cls(str(op), int(cin), int(cout), int(kernel), int(stride), (int(hw[0]), int(hw[1])))


def term_units(term: ConvTerm, cin: int, cout: int, stem_pool: bool) -> tuple[Unit, ...]:
    """The units a layer costs with `cin` input and `cout` output channels."""
    if term.role == "stem":
        return (Unit("stem_pool" if stem_pool else "stem", cin, cout, term.kernel, term.stride, term.in_hw),)
    if term.role == "classifier":
        return (Unit("head", cin, cout, 0, 1, term.in_hw),)
    if term.role == "shortcut":
        return (Unit("shortcut", cin, cout, 1, term.stride, term.in_hw),)
    if term.role == "inner":
        return (Unit("conv_bn_relu", cin, cout, term.kernel, term.stride, term.in_hw),)
    return (
        Unit("conv_bn", cin, cout, term.kernel, term.stride, term.in_hw),
        Unit("add_relu", 0, cout, 0, 1, term.out_hw),
    )


def network_units(spec: ArchSpec) -> Iterator[Unit]:
    """Every unit the pruned network `spec` runs, in forward order."""
    stem_pool = spec.family.stem == "imagenet"
    for term, cin, cout in present_layers(spec):
        yield from term_units(term, cin, cout, stem_pool)


def candidate_widths(max_width: int, ratios: tuple[float, ...], multiple: int) -> tuple[int, ...]:
    """The widths a search space offers a conv of `max_width` channels, and the full width."""
    return tuple(sorted({round_width(r * max_width, max_width, multiple) for r in ratios} | {max_width}))


def ref_widths(ref: WidthRef, full: ArchSpec, ratios: tuple[float, ...], multiple: int) -> tuple[int, ...]:
    """The widths a layer's input or output can take in the search space."""
    kind, value = ref
    if kind == "const":
        return (value,)
    if kind == "conv":
        return candidate_widths(full.widths[value], ratios, multiple)
    outputs = {stage_output_conv(full.family, value, d) for d in range(1, full.depths[value] + 1)}
    return tuple(
        sorted({w for conv in outputs for w in candidate_widths(full.widths[conv], ratios, multiple)})
    )


def space_units(full: ArchSpec, ratios: tuple[float, ...], multiple: int) -> list[Unit]:
    """Every distinct unit of the search space of `full`'s model, each grid completed to a rectangle
    of its input and output widths so that a table can interpolate over it."""
    stem_pool = full.family.stem == "imagenet"
    cins: dict[GridKey, set[int]] = {}
    couts: dict[GridKey, set[int]] = {}
    for term in layer_terms(full):
        for cin in ref_widths(term.in_ref, full, ratios, multiple):
            for cout in ref_widths(term.out_ref, full, ratios, multiple):
                for unit in term_units(term, cin, cout, stem_pool):
                    cins.setdefault(unit.grid, set()).add(unit.cin)
                    couts.setdefault(unit.grid, set()).add(unit.cout)
    return sorted(
        Unit(op, cin, cout, kernel, stride, hw)
        for (op, kernel, stride, hw) in cins
        for cin in cins[(op, kernel, stride, hw)]
        for cout in couts[(op, kernel, stride, hw)]
    )


def unit_run(
    unit: Unit, batch: int, device: torch.device, dtype: torch.dtype, inputs: dict
) -> Callable[[], object]:
    """A call of `unit`'s modules on a random batch (inputs of one shape are shared via `inputs`)."""
    channels = unit.cout if unit.op == "add_relu" else unit.cin
    shape = (batch, channels, *unit.hw)
    if shape not in inputs:
        inputs[shape] = torch.randn(shape, device=device, dtype=dtype)
    x = inputs[shape]
    if unit.op == "head":
        pool, fc = nn.AdaptiveAvgPool2d(1), nn.Linear(unit.cin, unit.cout).to(device, dtype).eval()
        return lambda: fc(pool(x).flatten(1))
    if unit.op == "add_relu":
        block = ResidualBlock(unit.cout, (unit.cout,), (1,), 1, 0, projection=False)
        block.branch = nn.Sequential()  # the block's own work: the call, x + x and the ReLU
        return partial(block.to(device, dtype).eval(), x)
    conv, bn = conv_bn(unit.cin, unit.cout, unit.kernel, unit.stride)
    conv, bn = conv.to(device, dtype).eval(), bn.to(device, dtype).eval()
    if unit.op in ("stem", "stem_pool"):
        layers = [conv, bn, nn.ReLU(inplace=True)] + (
            [nn.MaxPool2d(3, 2, 1)] if unit.op == "stem_pool" else []
        )
        return partial(nn.Sequential(*layers), x)
    if unit.op == "shortcut":
        return partial(nn.Sequential(conv, bn), x)
    if unit.op == "conv_bn_relu":
        relu = nn.ReLU(inplace=True)
        return lambda: relu(bn(conv(x)))
    return lambda: bn(conv(x))
