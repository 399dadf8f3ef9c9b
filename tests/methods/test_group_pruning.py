"""Torch-Pruning's picks read back as an ArchSpec and teacher filters: the tasray network they
describe, started with `init` transfer, is the network Torch-Pruning itself prunes."""

import copy

import pytest
import torch
import torch_pruning as tp
from networks import identity_additions, randomised

from tasray.costs.flops import FlopsCost
from tasray.methods.criteria import CRITERIA
from tasray.methods.group_pruning import prune_plan, prune_to_target
from tasray.models.factory import build_network
from tasray.spec.arch import ArchSpec
from tasray.spec.topology import residual_streams
from tasray.stages.transfer import conv_layers, inherit_weights

FLOPS = FlopsCost()


def teacher_of(model: str, size: int = 32):
    return randomised(build_network(ArchSpec.full(model, 10, 3, (size, size))))


def pruned_by_torch_pruning(teacher, importance, ratio: float, global_pruning: bool, round_to: int = 1):
    """The teacher pruned in place by Torch-Pruning itself (a copy), at the same settings."""
    model = copy.deepcopy(teacher)
    pruner = tp.pruner.MetaPruner(
        model,
        torch.zeros(1, 3, *teacher.spec.input_size),
        importance,
        global_pruning=global_pruning,
        pruning_ratio=ratio,
        round_to=round_to if round_to > 1 else None,
        ignored_layers=[model.fc],
    )
    pruner.step()
    return model.eval()


@pytest.mark.parametrize("model", ["cifar_resnet20", "resnet50"])
@pytest.mark.parametrize("global_pruning", [False, True])
def test_the_spec_and_kept_filters_rebuild_the_network_torch_pruning_prunes(model, global_pruning) -> None:
    teacher = teacher_of(model)
    importance = CRITERIA["l1"].importance()
    pruned = prune_plan(teacher, importance, 0.4, global_pruning=global_pruning)
    student = build_network(pruned.spec)
    inherit_weights(student, teacher, pruned.kept_channels)
    reference = pruned_by_torch_pruning(teacher, importance, 0.4, global_pruning)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(student.eval()(x), reference(x), atol=1e-4, rtol=1e-4)
    assert pruned.spec.depths == teacher.spec.depths
    assert sum(pruned.spec.widths) < sum(teacher.spec.widths)


def kept_fractions(spec: ArchSpec) -> set[float]:
    return {round(w / m, 2) for w, m in zip(spec.widths, spec.unpruned().widths, strict=True)}


@pytest.mark.parametrize("criterion", sorted(CRITERIA))
def test_global_allocation_finds_non_uniform_widths_and_uniform_one_fraction(criterion: str) -> None:
    teacher = teacher_of("cifar_resnet20", 8)
    importance = CRITERIA[criterion].importance()
    if CRITERIA[criterion].gradients:
        torch.nn.functional.cross_entropy(teacher(torch.randn(8, 3, 8, 8)), torch.arange(8)).backward()
    uniform = prune_to_target(teacher, importance, 0.5, FLOPS, global_pruning=False)
    found = prune_to_target(teacher, importance, 0.5, FLOPS, global_pruning=True)
    # uniform: one width per stage (the convs of a stage have one unpruned width: 16, 32 or 64)
    assert len(set(uniform.spec.widths)) == 3
    assert len(kept_fractions(found.spec)) > 4
    for pruned in (uniform, found):
        assert abs(FLOPS.ratio(pruned.spec) - 0.5) <= 0.05 * 0.5
        for source, out in identity_additions(build_network(pruned.spec)):
            assert pruned.kept_channels[source] == pruned.kept_channels[out]


def test_width_multiple_is_torch_prunings_round_to() -> None:
    teacher = teacher_of("cifar_resnet56")
    pruned = prune_to_target(
        teacher, CRITERIA["l1"].importance(), 0.5, FLOPS, global_pruning=True, round_to=8
    )
    assert all(w % 8 == 0 for w in pruned.spec.widths)
    assert abs(FLOPS.ratio(pruned.spec) - 0.5) <= 0.05 * 0.5


def test_the_random_criterion_follows_its_seed() -> None:
    teacher, importance = teacher_of("cifar_resnet20", 8), CRITERIA["random"].importance()
    picks = [prune_plan(teacher, importance, 0.5, global_pruning=True, seed=s) for s in (0, 0, 1)]
    assert picks[0] == picks[1] and picks[0].kept_channels != picks[2].kept_channels


@pytest.mark.parametrize("model", ["cifar_resnet56", "cifar_resnet164", "resnet18", "resnet50"])
def test_torch_prunings_groups_of_the_teacher_are_its_residual_streams(model) -> None:
    teacher = build_network(ArchSpec.full(model, 10, 3, (32, 32))).eval()
    graph = tp.DependencyGraph().build_dependency(teacher, example_inputs=torch.zeros(1, 3, 32, 32))
    index = {conv: key[1] for key, conv, _, _ in conv_layers(teacher) if key[0] == "conv"}
    groups = set()
    for group in graph.get_all_groups(ignored_layers=[teacher.fc], root_module_types=[torch.nn.Conv2d]):
        convs = {
            index[d.target.module]
            for d, _ in group
            if d.target.module in index and graph.is_out_channel_pruning_fn(d.handler)
        }
        groups.add(frozenset(convs))
    assert groups == {frozenset(stream) for stream in residual_streams(teacher.spec)}
