"""`init` transfer keeps one teacher index set per residual stream."""

import random

import pytest
import torch
from networks import identity_additions, randomised
from torch import nn

from baselines.fixed_ratio import uniform_spec
from baselines.random_search import sample_spec
from tasray.config import SearchConfig
from tasray.engine.settings import search_space
from tasray.models.factory import build_network
from tasray.spec.arch import ArchSpec
from tasray.stages.transfer import L1Norm, RandomChannels, conv_layers, inherit_weights, select_channels


@pytest.mark.parametrize("model", ["cifar_resnet20", "cifar_resnet164", "resnet18", "resnet50"])
@pytest.mark.parametrize("criterion", [L1Norm(), RandomChannels(5)])
def test_both_sides_of_every_identity_addition_keep_the_same_teacher_channels(model, criterion) -> None:
    full = ArchSpec.full(model, 10, 3, (32, 32))
    teacher = randomised(build_network(full))
    space = search_space(SearchConfig(width_ratios=[0.5, 0.75, 1.0]), variant="tas")
    rng = random.Random(0)
    specs = [uniform_spec(full, 0.6)] + [sample_spec(full, space, rng) for _ in range(4)]
    checked = 0
    for spec in specs:
        kept = select_channels(teacher, spec, criterion)
        assert [len(k) for k in kept] == list(spec.widths)
        for source, out in identity_additions(build_network(spec)):
            assert kept[source] == kept[out], (spec, source, out)
            checked += 1
    assert checked >= 3  # the uniform spec keeps every identity block of the teacher


def masked_teacher(teacher: nn.Module, kept: list[list[int]]) -> nn.Module:
    """The teacher with every filter that `kept` drops silenced (its BatchNorm outputs 0; a
    projection shortcut's filters are those of its block's output conv)."""
    masked = type(teacher)(teacher.spec)
    masked.load_state_dict(teacher.state_dict())
    for key, _, norm, _ in conv_layers(masked):
        dropped = sorted(set(range(norm.num_features)) - set(kept[key[1]]))
        norm.weight.data[dropped] = 0.0
        norm.bias.data[dropped] = 0.0
    return masked.eval()


@pytest.mark.parametrize("model", ["cifar_resnet20", "resnet50"])
@pytest.mark.parametrize("keep", [0.9, 0.5])
def test_init_of_a_uniform_spec_computes_the_teacher_with_the_dropped_filters_silenced(model, keep) -> None:
    """With aligned streams the pruned network is exactly the teacher restricted to kept channels;
    per-conv rankings would add different teacher channels across each identity shortcut."""
    full = ArchSpec.full(model, 10, 3, (32, 32))
    teacher = randomised(build_network(full))
    spec = uniform_spec(full, keep)
    kept = select_channels(teacher, spec, L1Norm())
    student = build_network(spec)
    inherit_weights(student, teacher, kept)
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(student.eval()(x), masked_teacher(teacher, kept)(x), atol=1e-4, rtol=1e-4)
