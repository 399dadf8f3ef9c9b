import random

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from tasray.costs.base import ArchDistribution, DepthDistribution, WidthDistribution
from tasray.costs.flops import count_flops, count_params, expected_flops
from tasray.models import PrunedResNet, list_models
from tasray.spec.arch import ArchSpec
from tasray.spec.family import get_family
from tasray.tas.cost_loss import cost_loss

# Unpruned MACs from the paper (CIFAR at 32×32 with 10 classes; ImageNet at 224×224, 1000 classes).
PAPER_MFLOPS = {
    "cifar_resnet20": 40.81,
    "cifar_resnet32": 69.12,
    "cifar_resnet56": 125.75,
    "cifar_resnet110": 253.15,
    "cifar_resnet164": 247.65,
    "resnet18": 1814.07,
    "resnet50": 4089.19,
}


@pytest.mark.parametrize("model", sorted(PAPER_MFLOPS))
def test_unpruned_flops_match_the_paper(model: str) -> None:
    size, classes = ((224, 224), 1000) if model.startswith("resnet") else ((32, 32), 10)
    macs = count_flops(ArchSpec.full(model, classes, 3, size)) / 1e6
    assert macs == pytest.approx(PAPER_MFLOPS[model], rel=1e-3)


def random_spec(model: str, rng: random.Random, in_channels: int, size: int, classes: int) -> ArchSpec:
    family = get_family(model)
    widths = [rng.randint(1, w) for w in family.max_widths()]
    if rng.random() < 0.3:  # equal widths exercise identity shortcuts
        widths = [max(1, w // 2) for w in family.max_widths()]
    depths = [rng.randint(1, d) for d in family.stage_depths]
    return ArchSpec(model, widths, depths, in_channels, (size, size), classes)


def counted_macs(model: torch.nn.Module, x: torch.Tensor) -> float:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    return counter.get_total_flops() / 2  # the counter reports 2 FLOPs per multiply-accumulate


@pytest.mark.parametrize("model", list_models())
def test_analytic_count_equals_an_independent_counter(model: str) -> None:
    rng = random.Random(model)
    imagenet = not model.startswith("cifar")
    for _ in range(20):
        channels, size = rng.choice(
            [(1, 8), (3, 32), (1, 28), (2, 13)] if not imagenet else [(3, 64), (1, 40)]
        )
        spec = random_spec(model, rng, channels, size, rng.choice([10, 7]))
        net = PrunedResNet(spec).eval()
        assert count_flops(spec) == counted_macs(net, torch.randn(1, channels, size, size))
        assert count_params(spec) == sum(p.numel() for p in net.parameters())


def one_hot_distributions(spec: ArchSpec, unpruned: ArchSpec):
    family = spec.family
    widths = []
    for width, limit in zip(spec.widths, family.max_widths(), strict=True):
        options = sorted({width, limit, max(1, limit // 3)})
        probs = torch.tensor([float(o == width) for o in options], requires_grad=True)
        widths.append(WidthDistribution(torch.tensor(options, dtype=torch.float32), probs))
    depths = []
    for depth, limit in zip(spec.depths, family.stage_depths, strict=True):
        options = list(range(1, limit + 1))
        depths.append(DepthDistribution(options, torch.tensor([float(o == depth) for o in options])))
    return widths, depths


@pytest.mark.parametrize("model", ["cifar_resnet20", "cifar_resnet164", "resnet18", "resnet50"])
def test_expected_cost_of_a_one_hot_distribution_is_the_exact_cost(model: str) -> None:
    rng = random.Random(1)
    for _ in range(10):
        spec = random_spec(model, rng, 3, 32, 10)
        widths, depths = one_hot_distributions(spec, ArchSpec.full(model, 10, 3, (32, 32)))
        assert float(expected_flops(ArchDistribution(spec, widths, depths)).detach()) == pytest.approx(
            count_flops(spec), rel=1e-5
        )


def test_expected_cost_is_differentiable_and_between_extremes() -> None:
    spec = ArchSpec.full("cifar_resnet20", 10, 3, (32, 32))
    family = spec.family
    widths = [
        WidthDistribution(
            torch.tensor([w / 2, w], dtype=torch.float32), torch.full((2,), 0.5, requires_grad=True)
        )
        for w in family.max_widths()
    ]
    depths = [
        DepthDistribution([1, d], torch.tensor([0.5, 0.5], requires_grad=True)) for d in family.stage_depths
    ]
    cost = expected_flops(ArchDistribution(spec, widths, depths))
    cost.backward()
    assert 0 < float(cost.detach()) < count_flops(spec)
    assert all(w.probs.grad[1] > w.probs.grad[0] for w in widths)  # wider costs more
    assert all(d.probs.grad[1] > d.probs.grad[0] for d in depths)  # deeper costs more


def test_cost_loss_pieces() -> None:
    expected = torch.tensor(0.6, requires_grad=True)
    assert float(cost_loss(expected, 0.9, target=0.5, tolerance=0.05)) == pytest.approx(
        torch.log(torch.tensor(0.6)).item()
    )
    assert float(cost_loss(expected, 0.2, target=0.5, tolerance=0.05)) == pytest.approx(
        -torch.log(torch.tensor(0.6)).item()
    )
    assert float(cost_loss(expected, 0.51, target=0.5, tolerance=0.05)) == 0.0
    cost_loss(expected, 0.9, 0.5, 0.05).backward()
    assert expected.grad > 0  # too big: descending the loss lowers the expected cost
