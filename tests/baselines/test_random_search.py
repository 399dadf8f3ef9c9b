import pytest

from baselines.random_search import random_search, sample_specs
from tasray.config import load_experiment
from tasray.costs.flops import FlopsCost, flop_ratio
from tasray.engine.pipeline import full_spec
from tasray.engine.runner import LocalRunner
from tasray.engine.settings import search_space
from tasray.errors import TasrayError
from tasray.methods.context import MethodContext
from tasray.models.search import SearchSpace
from tasray.spec.arch import ArchSpec

FLOPS = FlopsCost()


@pytest.mark.parametrize("target", [0.3, 0.5, 0.8])
def test_samples_are_distinct_inside_the_flop_band_and_reproducible(target: float) -> None:
    full = ArchSpec.full("cifar_resnet56", 10, 3, (32, 32))
    specs = sample_specs(full, SearchSpace(), FLOPS, 8, target, 0.05, seed=1)
    assert len(set(specs)) == 8
    assert all(0.95 * target <= flop_ratio(s) <= 1.05 * target for s in specs)
    assert specs == sample_specs(full, SearchSpace(), FLOPS, 8, target, 0.05, seed=1)
    assert specs != sample_specs(full, SearchSpace(), FLOPS, 8, target, 0.05, seed=2)


def test_an_unreachable_band_is_a_clear_error() -> None:
    full = ArchSpec.full("cifar_resnet20", 10, 3, (32, 32))
    with pytest.raises(TasrayError, match="random_search found 0 of 2 architectures"):
        sample_specs(full, SearchSpace(width_ratios=(0.9, 1.0), min_depth=3), FLOPS, 2, 0.1, 0.05, seed=0)


def test_picks_the_candidate_with_the_best_validation_accuracy(tmp_path) -> None:
    exp = load_experiment(
        "experiments/quickstart.yaml", ["baselines.1.num_candidates=2", f"storage_path={tmp_path}"]
    )
    jobs = []

    class OneRunner:  # records each job it is given
        def run(self, job):
            jobs.append(job.name)
            return LocalRunner(progress=False).run(job)

    ctx = MethodContext(exp, full_spec(exp), None, 90.0, OneRunner(), FLOPS, exp.baselines[1])
    result = random_search(ctx)
    assert jobs == ["candidates"]  # every candidate trains inside one job (one Ray Train run)
    best = max(result.history, key=lambda h: h["val_top1"])
    assert len(result.history) == 2 and result.history[best["candidate"]] is best
    space = search_space(exp.search, "tas")
    sampled = sample_specs(full_spec(exp), space, FLOPS, 2, 0.55, exp.search.tolerance, exp.seed)
    assert result.spec == sampled[best["candidate"]]


def test_samples_of_a_rounded_space_have_widths_in_multiples() -> None:
    full = ArchSpec.full("cifar_resnet56", 10, 3, (32, 32))
    space = SearchSpace(width_multiple=8)
    assert space.width_candidates(16) == (8, 16) and space.width_candidates(64)[0] == 16  # 0.3·64 = 19.2 → 16
    assert SearchSpace().width_candidates(16) == (5, 6, 8, 10, 11, 13, 14, 16)  # the paper's rounding
    assert SearchSpace(width_multiple=8).width_candidates(6) == (6,)  # narrower than a block: kept
    specs = sample_specs(full, space, FLOPS, 4, 0.5, 0.05, seed=3)
    assert all(w % 8 == 0 for s in specs for w in s.widths)
    assert all(0.475 <= flop_ratio(s) <= 0.525 for s in specs)
    with pytest.raises(TasrayError, match="width_multiple = 0"):
        SearchSpace(width_multiple=0)
