"""The engine is open: a method and a cost that only this test registers run end to end, from the
experiment file's schema to a results row, through `LocalRunner`, with no other file edited."""

from typing import Literal

import pytest
import torch

from tasray.config import BaselineSection, load_experiment
from tasray.costs import COSTS, ArchDistribution, Cost
from tasray.engine.pipeline import TrialPlan, baseline_plans, get_teacher, run_trial
from tasray.engine.runner import LocalRunner
from tasray.methods import METHODS, Method, register_method
from tasray.methods.context import MethodContext, MethodResult
from tasray.results import ResultsStore, read_results
from tasray.spec.arch import ArchSpec


class ChannelCost(Cost):
    """Toy cost: the total number of output channels of the convs the network keeps."""

    name, label, ratio_column = "channels", "channels", "cost_ratio"

    def exact(self, spec: ArchSpec) -> float:
        family = spec.family
        kept = [
            family.conv_index(s, b, p)
            for s, d in enumerate(spec.depths)
            for b in range(d)
            for p in range(len(family.block_kernels))
        ]
        return float(spec.widths[0] + sum(spec.widths[i] for i in kept))

    def expected(self, distribution: ArchDistribution) -> torch.Tensor:
        family = distribution.spec.family
        total = distribution.widths[0].mean()
        for stage, depths in enumerate(distribution.depths):
            for block in range(family.stage_depths[stage]):
                for position in range(len(family.block_kernels)):
                    conv = family.conv_index(stage, block, position)
                    total = total + depths.keeps(block) * distribution.widths[conv].mean()
        return total


class HalfConfig(BaselineSection):
    method: Literal["half"] = "half"
    keep: float = 0.5


def half(context: MethodContext) -> MethodResult:
    """Toy method: every conv keeps the given fraction of its filters."""
    full = context.full_spec
    widths = [max(1, round(context.baseline.keep * w)) for w in full.widths]
    return MethodResult(
        ArchSpec(full.model, widths, full.depths, full.in_channels, full.input_size, full.num_classes)
    )


@pytest.fixture
def toys():
    COSTS.add("channels", ChannelCost)
    register_method(Method("half", half, "half", config=HalfConfig, describe=lambda c: f"keep {c.keep}"))
    yield
    COSTS.remove("channels")
    METHODS.remove("half")


def test_a_toy_method_and_cost_run_end_to_end(tmp_path, toys) -> None:
    overrides = [
        f"storage_path={tmp_path}",
        "teacher.epochs=1",
        "retrain.epochs=1",
        "search.epochs=1",
        "search.cost=channels",
        "baselines=[{method: half, keep: 0.5, transfer: scratch}]",
    ]
    exp = load_experiment("experiments/quickstart.yaml", overrides)
    assert type(exp.baselines[0]) is HalfConfig
    runner = LocalRunner(progress=False)
    teacher = get_teacher(exp, runner)
    store = ResultsStore(exp.storage_path)
    for plan in [*baseline_plans(exp), TrialPlan("tas-0", "tas", exp)]:
        store.append(run_trial(plan, teacher, runner))
    rows = {r["method"]: r for r in read_results(tmp_path).to_pylist()}
    assert set(rows) == {"half", "tas"} and {r["cost"] for r in rows.values()} == {"channels"}
    assert rows["half"]["cost_ratio"] == pytest.approx(0.5, abs=0.05)
    spec = ArchSpec.from_json(rows["tas"]["arch"])
    assert rows["tas"]["cost_ratio"] == pytest.approx(ChannelCost().ratio(spec))
    assert rows["tas"]["search_history"][0]["cost_ratio"] is not None


def test_an_unregistered_method_or_cost_is_refused_with_the_known_names(tmp_path) -> None:
    from tasray.config import ConfigError

    refused = "baselines\\[0\\].method = 'half': must be one of .*'fixed_ratio', .*'random_search'"
    with pytest.raises(ConfigError, match=refused):
        load_experiment("experiments/quickstart.yaml", ["baselines=[{method: half}]"])
    with pytest.raises(ConfigError, match="search.cost = 'channels': must be one of flops"):
        load_experiment("experiments/quickstart.yaml", ["search.cost=channels"])
