"""Networks with distinguishable channels, and the residual additions a built network performs,
for the tests of `init` transfer and of the Torch-Pruning methods."""

import torch
from torch import nn


def randomised(net: nn.Module) -> nn.Module:
    """`net` in eval mode with random BatchNorm affine and statistics, so no two channels score alike."""
    generator = torch.Generator().manual_seed(3)
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            for tensor in (module.weight, module.bias, module.running_mean):
                tensor.data = torch.randn(tensor.shape, generator=generator)
            module.running_var.data = torch.rand(module.running_var.shape, generator=generator) + 0.5
    return net.eval()


def identity_additions(net: nn.Module) -> list[tuple[int, int]]:
    """(conv index of a block's input, conv index of its output) for every block of `net` whose
    shortcut is the identity, read from the built modules."""
    family = net.spec.family
    last, pairs, source = len(family.block_kernels) - 1, [], 0
    for stage, blocks in enumerate(net.stages):
        for block, module in enumerate(blocks):
            out = family.conv_index(stage, block, last)
            if isinstance(module.shortcut, nn.Identity):
                pairs.append((source, out))
            source = out
    return pairs
