"""`init` transfer: start a pruned network from the teacher's weights, keeping chosen filters.

Which filters a pruned conv keeps is a `FilterCriterion` (one small class per rule, in the style of
Torch-Pruning's importance classes). Every method keeps the teacher's L1-largest filters (`L1Norm`,
Li et al. 2017) unless a fixed-ratio baseline asks for random ones, so that `init` compares
architectures rather than filter picks (the order of a trained teacher's filters is arbitrary).
A conv's input channels are the filters kept by the conv that feeds it. A projection shortcut
that the teacher lacks (added because widths now differ) keeps its fresh initialisation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor, nn

from tasray.models.resnet import PrunedResNet
from tasray.spec.arch import ArchSpec
from tasray.spec.topology import stage_output_conv

LayerKey = tuple[str, int]  # ("conv", conv index) or ("shortcut", conv index of the block's output)


class FilterCriterion(ABC):
    """Ranks the output filters of a conv weight (out, in, k, k); the highest scores are kept.

    Example:
        >>> w = torch.tensor([1.0, -3.0, 2.0]).view(3, 1, 1, 1)
        >>> L1Norm().select(w, 2)
        [1, 2]
    """

    @abstractmethod
    def scores(self, weight: Tensor) -> Tensor: ...

    def select(self, weight: Tensor, keep: int) -> list[int]:
        return sorted(self.scores(weight).topk(keep).indices.tolist())


class L1Norm(FilterCriterion):
    def scores(self, weight: Tensor) -> Tensor:
        return weight.detach().abs().sum(dim=(1, 2, 3))


class RandomChannels(FilterCriterion):
    def __init__(self, seed: int = 0) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def scores(self, weight: Tensor) -> Tensor:
        return torch.rand(weight.shape[0], generator=self.generator)


def make_criterion(name: str, seed: int = 0) -> FilterCriterion:
    """The criterion called `name` (``l1`` or ``random``); `seed` drives the random one."""
    return RandomChannels(seed) if name == "random" else L1Norm()


def conv_layers(net: PrunedResNet) -> Iterator[tuple[LayerKey, nn.Conv2d, nn.BatchNorm2d, int | None]]:
    """Every conv with its BatchNorm and the conv index feeding it (None: the image)."""
    family = net.spec.family
    yield ("conv", 0), net.stem[0], net.stem[1], None
    source = 0
    for stage, blocks in enumerate(net.stages):
        for block, module in enumerate(blocks):
            convs = [m for m in module.branch if isinstance(m, nn.Conv2d)]
            norms = [m for m in module.branch if isinstance(m, nn.BatchNorm2d)]
            feed = source
            for position, (conv, norm) in enumerate(zip(convs, norms, strict=True)):
                index = family.conv_index(stage, block, position)
                yield ("conv", index), conv, norm, feed
                feed = index
            if isinstance(module.shortcut, nn.Sequential):
                yield ("shortcut", feed), module.shortcut[0], module.shortcut[1], source
            source = feed


def select_channels(teacher: PrunedResNet, spec: ArchSpec, criterion: FilterCriterion) -> list[list[int]]:
    """Kept output filters of every conv of `spec`, ranked on the teacher's weights."""
    weights = {key[1]: conv.weight for key, conv, _, _ in conv_layers(teacher) if key[0] == "conv"}
    return [criterion.select(weights[i], width) for i, width in enumerate(spec.widths)]


def first_channels(spec: ArchSpec) -> list[list[int]]:
    return [list(range(width)) for width in spec.widths]


@torch.no_grad()
def inherit_weights(
    student: PrunedResNet, teacher: PrunedResNet, kept: Sequence[Sequence[int]] | None = None
) -> None:
    """Copy the teacher's weights for the kept filters into `student` (in place)."""
    kept = kept if kept is not None else first_channels(student.spec)
    teacher_layers = {key: (conv, norm) for key, conv, norm, _ in conv_layers(teacher)}
    all_inputs = list(range(student.spec.in_channels))
    for key, conv, norm, feed in conv_layers(student):
        if key not in teacher_layers:
            continue
        source_conv, source_norm = teacher_layers[key]
        out_idx = torch.tensor(kept[key[1]])
        in_idx = torch.tensor(all_inputs if feed is None else kept[feed])
        conv.weight.copy_(source_conv.weight[out_idx][:, in_idx])
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(norm, name).copy_(getattr(source_norm, name)[out_idx])
    spec = student.spec
    last = stage_output_conv(spec.family, len(spec.depths) - 1, spec.depths[-1])
    student.fc.weight.copy_(teacher.fc.weight[:, torch.tensor(kept[last])])
    student.fc.bias.copy_(teacher.fc.bias)
