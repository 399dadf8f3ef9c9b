import pytest
import torch
from networks import randomised

from baselines.channel_pruning import ChannelPruningConfig, TaylorConfig
from tasray.config import load_experiment
from tasray.costs import ArchDistribution, Cost
from tasray.costs.flops import FlopsCost, count_params
from tasray.errors import TasrayError
from tasray.methods import METHODS, method_label
from tasray.methods.context import MethodContext
from tasray.models.factory import build_network
from tasray.spec.arch import ArchSpec

CRITERIA = ("l1", "l2", "bn_scale", "taylor", "fpgm", "lamp", "random")


class ParamsCost(Cost):
    """Toy cost: learnable parameters. A method must meet R under the trial's cost, not FLOPs."""

    name, label, ratio_column = "params", "parameters", "cost_ratio"

    def exact(self, spec: ArchSpec) -> float:
        return float(count_params(spec))

    def expected(self, distribution: ArchDistribution) -> torch.Tensor:
        raise NotImplementedError


@pytest.fixture(scope="module")
def teacher():
    return randomised(build_network(ArchSpec.full("cifar_resnet20", 10, 1, (8, 8))))


def context(teacher, method: str, cost: Cost | None = None, **entry) -> MethodContext:
    exp = load_experiment("experiments/quickstart.yaml").with_values(
        {"baselines": [{"method": method, "target_ratio": 0.5, **entry}]}
    )
    return MethodContext(exp, teacher.spec, teacher, 90.0, None, cost or FlopsCost(), exp.baselines[0])


def test_one_method_per_criterion_and_allocation_with_a_clear_label() -> None:
    names = [f"{c}_{a}" for c in CRITERIA for a in ("uniform", "global")]
    assert set(names) <= set(METHODS.names())
    assert method_label("bn_scale_global") == "BN scale (global)"
    assert method_label("l1_uniform") == "L1 (uniform)"
    assert all(METHODS.get(name).config in (ChannelPruningConfig, TaylorConfig) for name in names)


@pytest.mark.parametrize("method", ["l1_uniform", "fpgm_global", "taylor_global"])
def test_the_method_meets_r_of_the_trials_cost(teacher, method: str) -> None:
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    for cost in (FlopsCost(), ParamsCost()):
        found = METHODS.get(method).run(
            context(teacher, method, cost, **({"gradient_batches": 2} if "taylor" in method else {}))
        )
        assert abs(cost.ratio(found.spec) - 0.5) <= 0.05 * 0.5
        assert [len(k) for k in found.kept_channels] == list(found.spec.widths)
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())
    assert all(p.grad is None for p in teacher.parameters())  # Taylor's gradients go into a copy


def test_entries_are_checked_by_their_methods_config() -> None:
    exp = load_experiment("experiments/quickstart.yaml")
    entry = exp.with_values({"baselines": [{"method": "taylor_uniform", "gradient_batches": 2}]}).baselines[0]
    assert isinstance(entry, TaylorConfig) and entry.target_ratio == exp.search.target_ratio
    with pytest.raises(TasrayError, match="gradient_batches"):
        exp.with_values({"baselines": [{"method": "l1_global", "gradient_batches": 2}]})


def test_a_target_out_of_reach_is_one_line(teacher) -> None:
    with pytest.raises(TasrayError, match="l1_uniform cannot reach target_ratio 0.5 .* gives 1.000"):
        METHODS.get("l1_uniform").run(context(teacher, "l1_uniform", width_multiple=64))
