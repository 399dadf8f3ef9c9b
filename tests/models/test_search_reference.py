"""The super-network and the search steps compute what the paper's formulas say, on fixed draws.

`plain_forward` is the search forward written as plainly as possible: every sampled width gets its
own conv, its own BatchNorm module call and CWI by adaptive average pooling (Eq. 4, footnote 2);
every stage mixes its outputs at all depths (Eq. 5). It draws its Gumbel samples through the same
generator in the same order as `SearchableResNet.forward`, so both see the same architecture. The
fast forward (weight slices, one normalisation and one channel-mixing matrix per conv) must give the
same logits, the same gradients for every weight and for α and β, and the same BatchNorm running
statistics, up to float rounding; and `SearchStage`'s steps must leave the same parameters.
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from tasray.config import SearchConfig
from tasray.costs.flops import FlopsCost
from tasray.engine.settings import search_settings
from tasray.models.search import SearchableResNet, SearchOutput, SearchSpace
from tasray.spec.arch import ArchSpec
from tasray.stages.search import SearchStage
from tasray.tas.gumbel import MASKED_LOGIT, gumbel_select, gumbel_softmax

# The comparisons run in float64: rounding differs between the two forms (batch statistics summed in
# another order, matrix products instead of gathers), and a deep network with random BatchNorm affines
# amplifies float32 rounding to ~1e-2 in its gradients; in float64 the forms agree to ~1e-12, while a
# wrong formula is off by far more than the tolerance.
TOLERANCE = {"rtol": 1e-7, "atol": 1e-9}


def channel_pool(x: torch.Tensor, channels: int) -> torch.Tensor:
    """CWI (footnote 2): adaptive average pooling over the channel axis."""
    return F.adaptive_avg_pool3d(x.unsqueeze(1), (channels, *x.shape[2:])).squeeze(1)


def pad_add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a + b, the narrower one zero-padded in its last channels (the authors' `additive_func`)."""
    width = max(a.shape[1], b.shape[1])
    return sum(F.pad(t, (0, 0, 0, 0, 0, width - t.shape[1])) for t in (a, b))


def plain_forward(net: SearchableResNet, x: torch.Tensor) -> SearchOutput:
    """Eq. 3–5 and footnote 2 for `net`, one candidate at a time, with `net`'s draws."""
    width_logits = net.width_logits.masked_fill(~net.width_mask, MASKED_LOGIT)
    depth_logits = net.depth_logits.masked_fill(~net.depth_mask, MASKED_LOGIT)
    k = min(net.space.num_selected, width_logits.shape[1])
    sample = gumbel_select(width_logits, net.tau, k, net.sampler)
    depth_weights = gumbel_softmax(depth_logits, net.tau, net.sampler)

    def conv(module, row: int, inp: torch.Tensor) -> torch.Tensor:
        picks = [
            (int(i), w)
            for i, w in zip(sample.indices[row], sample.weights[row], strict=True)
            if i < len(net.width_options[row])
        ]
        outs = []
        for i, w in picks:
            width = module.candidates[i]
            out = F.conv2d(inp, module.weight[:width, : inp.shape[1]], None, module.stride, module.padding)
            outs.append((w, module.norms[i](out)))
        if len(outs) == 1:
            return outs[0][1]
        widest = max(o.shape[1] for _, o in outs)
        return sum(w * channel_pool(o, widest) for w, o in outs)

    family = net.family
    out = F.relu(conv(net.stem, 0, x))
    block_id = 0
    for stage, depth in enumerate(family.stage_depths):
        candidates, outputs = net.depth_options[stage], []
        for block in range(depth):
            branch = out
            convs = net.blocks[block_id + block]
            for position, module in enumerate(convs):
                branch = conv(module, family.conv_index(stage, block, position), branch)
                if position < len(convs) - 1:
                    branch = F.relu(branch)
            key = f"{stage}_{block}"
            if key in net.projections:
                proj, width = net.projections[key], branch.shape[1]
                shortcut = F.conv2d(out, proj.weight[:width, : out.shape[1]], None, proj.stride)
                n = proj.norm
                shortcut = F.batch_norm(
                    shortcut,
                    n.running_mean[:width],
                    n.running_var[:width],
                    n.weight[:width],
                    n.bias[:width],
                    n.training,
                    n.momentum,
                    n.eps,
                )
                out = F.relu(branch + shortcut)
            else:
                out = F.relu(pad_add(branch, out))
            if block + 1 in candidates:
                outputs.append(out)
        block_id += depth
        if len(outputs) == 1:
            out = outputs[0]
        else:
            widest = max(o.shape[1] for o in outputs)
            out = sum(
                w * channel_pool(o, widest) for w, o in zip(depth_weights[stage], outputs, strict=False)
            )
    features = F.adaptive_avg_pool2d(out, 1).flatten(1)
    return SearchOutput(F.linear(features, net.fc.weight[:, : features.shape[1]], net.fc.bias), net)


def twins(
    model: str, seed: int = 0, in_channels: int = 3, **space
) -> tuple[SearchableResNet, SearchableResNet]:
    """A super-network with random BatchNorm affines and logits, and an identical copy."""
    torch.manual_seed(seed)
    net = SearchableResNet(ArchSpec.full(model, 10, in_channels, (16, 16)), SearchSpace(**space))
    with torch.no_grad():
        for name, p in net.named_parameters():
            if "norm" in name:  # not the initial 1 and 0, so that a mixed-up candidate shows
                p.copy_(torch.rand_like(p) + 0.5 if name.endswith("weight") else torch.randn_like(p) * 0.1)
        net.width_logits.normal_(0, 1)
        net.depth_logits.normal_(0, 1)
    net.double().tau = 5.0
    return net, copy.deepcopy(net)


def draw_from(net: SearchableResNet, seed: int) -> None:
    net.sampler = torch.Generator().manual_seed(seed)


def assert_same_state(fast: torch.nn.Module, plain: torch.nn.Module) -> None:
    """Same parameters, gradients (None where the other is None) and buffers."""
    for (name, a), b in zip(fast.named_parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a, b, **TOLERANCE, msg=lambda m, n=name: f"{n}: {m}")
        assert (a.grad is None) == (b.grad is None), name
        if a.grad is not None:
            torch.testing.assert_close(a.grad, b.grad, **TOLERANCE, msg=lambda m, n=name: f"{n}.grad: {m}")
    for (name, a), b in zip(fast.named_buffers(), plain.buffers(), strict=True):
        torch.testing.assert_close(a, b, **TOLERANCE, msg=lambda m, n=name: f"{n}: {m}")


@pytest.mark.parametrize(
    ("model", "space"),
    [
        ("cifar_resnet20", {}),
        ("cifar_resnet20", {"num_selected": 3}),
        ("cifar_resnet32", {"variant": "tas_w"}),
        ("cifar_resnet20", {"variant": "tas_d"}),
        ("cifar_resnet164", {}),
        ("resnet18", {"width_multiple": 8}),
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_forward_and_every_gradient_follow_the_plain_formulas(model: str, space: dict, seed: int) -> None:
    fast, plain = twins(model, seed, **space)
    x, y = torch.randn(6, 3, 16, 16, dtype=torch.float64), torch.randint(0, 10, (6,))
    outputs = []
    for net, forward in ((fast, fast), (plain, lambda x: plain_forward(plain, x))):
        draw_from(net, seed)
        out = forward(x)
        (F.cross_entropy(out.logits, y) + out.expected_cost(FlopsCost()) / 1e6).backward()
        outputs.append(out.logits)
    torch.testing.assert_close(outputs[0], outputs[1], **TOLERANCE)
    assert_same_state(fast, plain)
    assert fast.stem.weight.grad.abs().sum() > 0
    assert sum(p.grad.abs().sum() for p in fast.arch_parameters()) > 0


def test_eval_mode_uses_each_candidates_running_statistics() -> None:
    fast, plain = twins("cifar_resnet20", 3)
    x = torch.randn(4, 3, 16, 16, dtype=torch.float64)
    for net in (fast, plain):  # give every candidate running statistics of its own
        for seed in range(3):
            draw_from(net, seed)
            (net(x) if net is fast else plain_forward(net, x))
    fast.eval(), plain.eval()
    draw_from(fast, 9), draw_from(plain, 9)
    torch.testing.assert_close(fast(x).logits, plain_forward(plain, x).logits, **TOLERANCE)


def search_stage(model: str, seed: int, **settings) -> SearchStage:
    torch.manual_seed(seed)
    data = TensorDataset(torch.randn(16, 3, 16, 16), torch.randint(0, 10, (16,)))
    spec = ArchSpec.full(model, 10, 3, (16, 16))
    settings_ = search_settings(SearchConfig(epochs=2, **settings))
    stage = SearchStage(spec, settings_, FlopsCost(), data, data, 8, torch.device("cpu"), seed)
    stage.network.double().train().tau = 5.0  # the optimisers hold the same Parameter objects
    return stage


@pytest.mark.parametrize(
    ("model", "settings"), [("cifar_resnet20", {}), ("cifar_resnet56", {"num_selected": 3})]
)
def test_search_steps_leave_the_same_weights_and_architecture_as_the_plain_formulas(model, settings) -> None:
    """Three iterations of `weights_step` + `arch_step` (frozen groups, SGD, Adam, the cost loss)."""
    fast, plain = search_stage(model, 0, **settings), search_stage(model, 0, **settings)
    plain.network.forward = lambda x: plain_forward(plain.network, x)
    torch.manual_seed(1)
    batches = [(torch.randn(8, 3, 16, 16, dtype=torch.float64), torch.randint(0, 10, (8,))) for _ in range(6)]
    for i in range(0, 6, 2):
        (xa, ya), (xb, yb) = batches[i], batches[i + 1]
        losses = [stage.weights_step(xa, ya) for stage in (fast, plain)]
        torch.testing.assert_close(losses[0], losses[1], **TOLERANCE)
        totals = [stage.arch_step(xb, yb) for stage in (fast, plain)]
        torch.testing.assert_close(totals[0], totals[1], **TOLERANCE)
    assert_same_state(fast.network, plain.network)
    assert fast.network.derive_arch() == plain.network.derive_arch()
