"""`init` transfer: start a pruned network from the teacher's weights, keeping chosen filters.

Which filters a pruned conv keeps is a `FilterCriterion` (one small class per rule, in the style of
Torch-Pruning's importance classes). TAS and random search keep the teacher's L1-largest filters
(`L1Norm`, Li et al. 2017), fixed ratio L1 or random ones, so that `init` compares architectures
rather than filter picks (the order of a trained teacher's filters is arbitrary); the Torch-Pruning
methods bring their own picks. Convs whose outputs meet in an identity addition keep one index set
(`residual_streams`), ranked on the sum of their scores: the addition sums channels position by
position, so each side must carry the same teacher channels. A conv's input channels are the
filters kept by the conv that feeds it. A projection shortcut that the teacher lacks (added because
widths now differ) keeps its fresh initialisation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor, nn

from tasray.models.resnet import PrunedResNet
from tasray.spec.arch import ArchSpec
from tasray.spec.topology import residual_streams, stage_output_conv

LayerKey = tuple[str, int]  # ("conv", conv index) or ("shortcut", conv index of the block's output)


class FilterCriterion(ABC):
    """Ranks the output filters of a conv weight (out, in, k, k); the highest scores are kept.

    Example:
        >>> w = torch.tensor([1.0, -3.0, 2.0]).view(3, 1, 1, 1)
        >>> L1Norm().scores(w)
        tensor([1., 3., 2.])
    """

    @abstractmethod
    def scores(self, weight: Tensor) -> Tensor: ...


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
    """Kept output filters of every conv of `spec`, ranked on the teacher's weights; one index set
    per residual stream, ranked on the summed scores of its convs."""
    weights = {key[1]: conv.weight for key, conv, _, _ in conv_layers(teacher) if key[0] == "conv"}
    kept: list[list[int]] = [[] for _ in spec.widths]
    for stream in residual_streams(spec):
        scores = torch.stack([criterion.scores(weights[index]) for index in stream]).sum(dim=0)
        chosen = sorted(scores.topk(spec.widths[stream[0]]).indices.tolist())
        for index in stream:
            kept[index] = chosen
    return kept


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
