import pytest

from baselines.fixed_ratio import (
    FixedRatioConfig,
    fixed_ratio,
    fixed_ratio_spec,
    keep_ratio_for,
    uniform_spec,
)
from tasray.config import load_experiment
from tasray.costs.flops import FlopsCost, flop_ratio
from tasray.errors import TasrayError
from tasray.methods import METHODS
from tasray.methods.context import MethodContext
from tasray.models import PrunedResNet
from tasray.spec.arch import ArchSpec

FLOPS = FlopsCost()


@pytest.mark.parametrize("model", ["cifar_resnet20", "cifar_resnet56", "cifar_resnet164", "resnet50"])
@pytest.mark.parametrize("target", [0.3, 0.5, 0.72])
def test_flop_ratio_meets_the_target(model: str, target: float) -> None:
    full = ArchSpec.full(model, 10, 3, (32, 32))
    spec = uniform_spec(full, keep_ratio_for(full, target, FLOPS))
    assert abs(flop_ratio(spec) - target) <= 0.05 * target
    assert spec.depths == full.depths


def context(keep_ratio=None, target=0.5, criterion="l1") -> MethodContext:
    exp = load_experiment("experiments/quickstart.yaml")
    full = ArchSpec.full("cifar_resnet20", 10, 1, (8, 8))
    baseline = FixedRatioConfig(
        keep_ratio=keep_ratio,
        target_ratio=None if keep_ratio else target,
        criterion=criterion,
    )
    return MethodContext(exp, full, PrunedResNet(full), 90.0, runner=None, cost=FLOPS, baseline=baseline)


def test_method_is_registered_and_keeps_l1_largest_filters() -> None:
    assert METHODS.get("fixed_ratio").run is fixed_ratio
    ctx = context(target=0.5)
    result = fixed_ratio(ctx)
    assert abs(flop_ratio(result.spec) - 0.5) <= 0.025
    # the stem and the outputs of stage 1's identity blocks are ranked together (one residual stream)
    stream = [ctx.teacher.stem[0], *(block.branch[3] for block in ctx.teacher.stages[0])]
    l1 = sum(conv.weight.abs().sum((1, 2, 3)) for conv in stream)
    assert sorted(l1.topk(result.spec.widths[0]).indices.tolist()) == result.kept_channels[0]
    inner = ctx.teacher.stages[0][0].branch[0].weight.abs().sum((1, 2, 3))
    assert sorted(inner.topk(result.spec.widths[1]).indices.tolist()) == result.kept_channels[1]


def test_keep_ratio_given_directly_and_random_criterion_is_seeded() -> None:
    a, b = (
        fixed_ratio(context(keep_ratio=0.5, criterion="random")),
        fixed_ratio(context(keep_ratio=0.5, criterion="random")),
    )
    assert a.spec.widths[0] == 8 and a.kept_channels == b.kept_channels
    assert all(len(k) == w for k, w in zip(a.kept_channels, a.spec.widths, strict=True))


@pytest.mark.parametrize("model", ["cifar_resnet56", "cifar_resnet110", "resnet50"])
@pytest.mark.parametrize("multiple", [4, 8])
def test_widths_rounded_to_the_multiple_still_meet_the_target(model: str, multiple: int) -> None:
    full = ArchSpec.full(model, 10, 3, (32, 32))
    uniform = uniform_spec(full, keep_ratio_for(full, 0.5, FLOPS, multiple), multiple)
    spec = fixed_ratio_spec(full, 0.5, FLOPS, multiple)
    assert all(w % multiple == 0 for w in spec.widths)
    assert abs(flop_ratio(spec) - 0.5) <= 0.05 * 0.5
    assert abs(flop_ratio(spec) - 0.5) <= abs(flop_ratio(uniform) - 0.5)
    odd = uniform_spec(full, keep_ratio_for(full, 0.5, FLOPS))
    assert any(w % multiple for w in odd.widths)  # the paper's exact rounding gives 11, 23, 46...
    assert fixed_ratio_spec(full, 0.5, FLOPS) == odd  # multiple 1: the uniform spec, as before


def test_width_multiple_defaults_to_the_searchs_and_a_coarse_one_is_a_clear_error() -> None:
    ctx = context(target=0.5)
    exp = ctx.experiment.with_values({"search.width_multiple": 8})
    result = fixed_ratio(MethodContext(exp, ctx.full_spec, ctx.teacher, 90.0, None, FLOPS, ctx.baseline))
    assert all(w % 8 == 0 for w in result.spec.widths)
    coarse = ctx.baseline.model_copy(update={"width_multiple": 32, "target_ratio": 0.2})
    with pytest.raises(TasrayError, match="width multiple 32 gives .*lower width_multiple"):
        fixed_ratio(MethodContext(ctx.experiment, ctx.full_spec, ctx.teacher, 90.0, None, FLOPS, coarse))


class FlatBelowCost(FlopsCost):
    """FLOPs, but a layer narrower than 30 % of its width costs what it costs at 30 % (as a latency
    table clamps widths below its narrowest candidate)."""

    def ratio(self, spec: ArchSpec) -> float:
        full = spec.unpruned()
        widths = [max(w, round(0.3 * f)) for w, f in zip(spec.widths, full.widths, strict=True)]
        clamped = ArchSpec(
            spec.model, widths, spec.depths, spec.in_channels, spec.input_size, spec.num_classes
        )
        return super().ratio(clamped)


def test_an_unreachable_target_on_a_flat_cost_prunes_no_further_than_the_cost_can_tell() -> None:
    full, cost = ArchSpec.full("cifar_resnet20", 10, 3, (32, 32)), FlatBelowCost()
    floor = cost.ratio(uniform_spec(full, 0.3))
    keep = keep_ratio_for(full, floor / 2, cost)  # below what any keep ratio gives
    assert cost.ratio(uniform_spec(full, keep)) == pytest.approx(floor)
    assert 0.28 <= keep <= 0.32  # not the 1-channel layers of a keep ratio near 0
    assert keep_ratio_for(full, 0.5, cost) == pytest.approx(keep_ratio_for(full, 0.5, FLOPS), abs=0.01)
