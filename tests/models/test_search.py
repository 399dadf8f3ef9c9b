import pytest
import torch

from tasray.costs.flops import FlopsCost, count_flops, expected_flops
from tasray.errors import TasrayError
from tasray.models.search import CandidateConv, SearchableResNet, SearchSpace, add_into_prefix
from tasray.spec.arch import ArchSpec
from tasray.tas.cwi import cwi


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


def eq4_reference(conv: CandidateConv, x: torch.Tensor, chosen: list[int], weights: torch.Tensor):
    """Paper Eq. 4, written plainly: Σ_i w_i · CWI(BN_i(conv_i(x)), widest)."""
    widest = max(conv.candidates[i] for i in chosen)
    parts = []
    for i, w in zip(chosen, weights, strict=True):
        c = conv.candidates[i]
        out = torch.nn.functional.conv2d(x, conv.weight[:c], None, conv.stride, conv.padding)
        parts.append(w * cwi(conv.norms[i](out), widest))
    return sum(parts)


@pytest.mark.parametrize(
    "chosen",
    [[1, 4], [4, 1], [0, 2], [2, 3], [3, 2, 0], [4]],  # (3, 8): two gathers; (4, 8): one; |I| = 3
)
def test_candidate_conv_computes_eq4(chosen: list[int]) -> None:
    """The sliced, BN-folded, in-place sum equals the plain formula: output, every gradient and the
    BatchNorm running statistics."""
    torch.manual_seed(0)
    fast = CandidateConv(3, (2, 3, 4, 6, 8), 3, 1)
    plain = CandidateConv(3, (2, 3, 4, 6, 8), 3, 1)
    plain.load_state_dict(fast.state_dict())
    x = torch.randn(4, 3, 5, 5)
    logits = torch.randn(len(chosen), requires_grad=True)
    grad_out = torch.randn(4, max(fast.candidates[i] for i in chosen), 5, 5)
    results = []
    for conv, forward in ((fast, fast.forward), (plain, lambda *a: eq4_reference(plain, *a))):
        xi, li = x.clone().requires_grad_(), logits.detach().clone().requires_grad_()
        out = forward(xi, chosen, li.softmax(0))
        out.backward(grad_out)
        logit_grad = torch.zeros_like(li) if li.grad is None else li.grad  # one candidate: weight ≡ 1
        results.append(
            (out, xi.grad, logit_grad, conv.weight.grad, [p.grad for p in conv.norms.parameters()])
        )
    torch.testing.assert_close(results[0][:4], results[1][:4])
    for a, b in zip(results[0][4], results[1][4], strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            torch.testing.assert_close(a, b)
    torch.testing.assert_close(fast.norms.state_dict(), plain.norms.state_dict())


@pytest.mark.parametrize("model", ["cifar_resnet20", "cifar_resnet164", "resnet18"])
@pytest.mark.parametrize("k", [2, 3])
def test_architecture_parameters_get_gradients(model: str, k: int) -> None:
    net = supernet(model, num_selected=k)
    out = net(torch.randn(4, 1, 8, 8))
    torch.nn.functional.cross_entropy(out.logits, torch.arange(4)).backward()
    assert net.width_logits.grad.abs().sum() > 0
    assert net.depth_logits.grad.abs().sum() > 0
    net.zero_grad()
    out.expected_cost(FlopsCost()).backward()
    assert net.width_logits.grad.abs().sum() > 0 and net.depth_logits.grad.abs().sum() > 0


def test_every_depth_candidate_of_every_stage_gets_a_gradient() -> None:
    """Eq. 5 mixes all depths of a stage (the authors' code), not |I| sampled ones."""
    net = supernet("cifar_resnet32", num_selected=2)  # 5 blocks per stage: 5 depth candidates
    out = net(torch.randn(4, 1, 8, 8))
    torch.nn.functional.cross_entropy(out.logits, torch.arange(4)).backward()
    for stage, options in enumerate(net.depth_options):
        assert (net.depth_logits.grad[stage, : len(options)] != 0).all()


def test_residual_sum_adds_the_narrower_map_into_the_wider_ones_first_channels() -> None:
    wide, narrow = torch.randn(2, 5, 3, 3), torch.randn(2, 3, 3, 3)
    for a, b in ((wide, narrow), (narrow, wide)):
        out = add_into_prefix(a, b)
        torch.testing.assert_close(out[:, :3], wide[:, :3] + narrow)
        torch.testing.assert_close(out[:, 3:], wide[:, 3:])
    torch.testing.assert_close(add_into_prefix(wide, wide), 2 * wide)


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
    assert float(expected_flops(net.distribution()).detach()) == pytest.approx(count_flops(spec), rel=1e-5)
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
