"""Behaviour of the TAS search on real digits (the paper's Fig. 3 trends, at small scale).

Short runs use arch_lr 0.05 (the paper's 1e-3 is meant for ~60k architecture steps; these runs
take ~70) and, for the FLOP target, tolerance t = 0.1 instead of 0.05.
"""

import pytest
import torch

from tasray.config import SearchConfig
from tasray.jobs import SearchJob
from tasray.stages.search import temperature


def search(digits_config, spec, **settings):
    cfg = SearchConfig(**{"epochs": 6, "arch_lr": 0.05, "tolerance": 0.1, **settings})
    return SearchJob(spec, cfg, digits_config, seed=0).build(torch.device("cpu")).fit(progress=False)


def test_without_cost_loss_the_search_grows_toward_the_largest_widths(digits_config, digits_spec):
    ratios = [
        h["flop_ratio"] for h in search(digits_config, digits_spec, lambda_cost=0.0, variant="tas_w").history
    ]
    assert sum(ratios[-2:]) / 2 > sum(ratios[:2]) / 2 + 0.1, ratios
    assert ratios[-1] > 0.6, ratios


def test_with_cost_loss_the_derived_flops_end_inside_the_target_band(digits_config, digits_spec):
    stage = search(digits_config, digits_spec, lambda_cost=2.0, target_ratio=0.5)
    final = stage.history[-1]
    assert 0.45 <= final["flop_ratio"] <= 0.55, [h["flop_ratio"] for h in stage.history]
    assert stage.result().spec == stage.network.derive_arch()
    assert set(final) >= {"flops", "expected_flops", "discrepancy", "val_top1", "tau"}
    assert final["tau"] == pytest.approx(0.1)


@pytest.mark.parametrize(("schedule", "middle"), [("linear", 5.05), ("cosine", 5.05), ("exponential", 1.0)])
def test_temperature_runs_from_tau_max_to_tau_min(schedule: str, middle: float) -> None:
    cfg = SearchConfig(epochs=3, tau_schedule=schedule)
    assert [temperature(cfg, e) for e in (0, 2)] == pytest.approx([10.0, 0.1])
    assert temperature(cfg, 1) == pytest.approx(middle)
