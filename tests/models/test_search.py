import pytest
import torch

from tasray.arch import ArchSpec
from tasray.errors import TasrayError
from tasray.models.search import SearchableResNet, SearchSpace
from tasray.tas.cost import count_flops


def supernet(model: str = "cifar_resnet20", **space) -> SearchableResNet:
    return SearchableResNet(ArchSpec.full(model, 10, 1, (8, 8)), SearchSpace(**space))


def test_candidates_follow_the_ratios_without_duplicates() -> None:
    space = SearchSpace()
    assert space.width_candidates(16) == (5, 6, 8, 10, 11, 13, 14, 16)
    assert space.width_candidates(2) == (1, 2)  # rounding duplicates removed, never 0 channels
    assert space.depth_candidates(3) == (1, 2, 3)
    assert SearchSpace(variant="tas_w").depth_candidates(3) == (3,)
    assert SearchSpace(variant="tas_d").width_candidates(16) == (16,)


def test_one_selected_candidate_is_rejected() -> None:
    with pytest.raises(TasrayError, match=r"num_selected \(\|I\|\) = 1; must be >= 2"):
        SearchSpace(num_selected=1)


@pytest.mark.parametrize("model", ["cifar_resnet20", "cifar_resnet164", "resnet18"])
@pytest.mark.parametrize("k", [2, 3])
def test_architecture_parameters_get_gradients(model: str, k: int) -> None:
    net = supernet(model, num_selected=k)
    out = net(torch.randn(4, 1, 8, 8))
    torch.nn.functional.cross_entropy(out.logits, torch.arange(4)).backward()
    assert net.width_logits.grad.abs().sum() > 0
    assert net.depth_logits.grad.abs().sum() > 0
    net.zero_grad()
    out.expected_flops.backward()
    assert net.width_logits.grad.abs().sum() > 0 and net.depth_logits.grad.abs().sum() > 0


def test_derived_arch_is_the_argmax_and_its_cost_is_exact() -> None:
    net = supernet()
    with torch.no_grad():
        net.width_logits.zero_()
        net.width_logits[:, 2] = 5.0  # third candidate everywhere
        net.depth_logits.zero_()
        net.depth_logits[:, 1] = 5.0  # two blocks per stage
        net.width_logits.mul_(100)
        net.depth_logits.mul_(100)
    spec = net.derive_arch()
    assert spec.depths == (2, 2, 2)
    assert spec.widths[0] == net.width_options[0][2]
    assert float(net.expected_flops().detach()) == pytest.approx(count_flops(spec), rel=1e-5)
    assert net.discrepancy() == pytest.approx(1.0)


def test_same_sampler_seed_gives_the_same_forward() -> None:
    net = supernet().eval()
    x = torch.randn(2, 1, 8, 8)
    outs = []
    for _ in range(2):
        net.sampler = torch.Generator().manual_seed(7)
        outs.append(net(x).logits)
    torch.testing.assert_close(outs[0], outs[1])


def test_separate_parameter_groups() -> None:
    net = supernet()
    arch, weights = net.arch_parameters(), net.weight_parameters()
    assert len(arch) == 2 and len(weights) + 2 == len(list(net.parameters()))
