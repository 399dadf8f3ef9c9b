import pytest

from baselines.fixed_ratio import fixed_ratio, keep_ratio_for, uniform_spec
from tasray.arch import ArchSpec
from tasray.config import FixedRatioBaseline, load_experiment
from tasray.methods import MethodContext, get_method
from tasray.models import PrunedResNet
from tasray.tas.cost import flop_ratio


@pytest.mark.parametrize("model", ["cifar_resnet20", "cifar_resnet56", "cifar_resnet164", "resnet50"])
@pytest.mark.parametrize("target", [0.3, 0.5, 0.72])
def test_flop_ratio_meets_the_target(model: str, target: float) -> None:
    full = ArchSpec.full(model, 10, 3, (32, 32))
    spec = uniform_spec(full, keep_ratio_for(full, target))
    assert abs(flop_ratio(spec) - target) <= 0.05 * target
    assert spec.depths == full.depths


def context(keep_ratio=None, target=0.5, criterion="l1") -> MethodContext:
    exp = load_experiment("experiments/quickstart.yaml")
    full = ArchSpec.full("cifar_resnet20", 10, 1, (8, 8))
    baseline = FixedRatioBaseline(
        method="fixed_ratio",
        keep_ratio=keep_ratio,
        target_ratio=None if keep_ratio else target,
        criterion=criterion,
    )
    return MethodContext(exp, full, PrunedResNet(full), 90.0, runner=None, baseline=baseline)


def test_method_is_registered_and_keeps_l1_largest_filters() -> None:
    assert get_method("fixed_ratio") is fixed_ratio
    ctx = context(target=0.5)
    result = fixed_ratio(ctx)
    assert abs(flop_ratio(result.spec) - 0.5) <= 0.025
    stem = ctx.teacher.stem[0].weight.abs().sum((1, 2, 3))
    assert sorted(stem.topk(result.spec.widths[0]).indices.tolist()) == result.kept_channels[0]


def test_keep_ratio_given_directly_and_random_criterion_is_seeded() -> None:
    a, b = (
        fixed_ratio(context(keep_ratio=0.5, criterion="random")),
        fixed_ratio(context(keep_ratio=0.5, criterion="random")),
    )
    assert a.spec.widths[0] == 8 and a.kept_channels == b.kept_channels
    assert all(len(k) == w for k, w in zip(a.kept_channels, a.spec.widths, strict=True))
