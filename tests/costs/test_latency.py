"""LatencyCost: the expected latency Σ p(c_in)·p(c_out)·LUT(c_in, c_out) of the search's
distribution, against the table's exact sum. The tables here have made-up seconds (a staircase in
the widths, as kernels on channel blocks give), so that every check is exact and fast."""

import math
import random

import pytest
import torch

from tasray.costs import COSTS, ArchDistribution, CostSetup, DepthDistribution, WidthDistribution, create_cost
from tasray.costs.latency import TABLE_OPTION, LatencyCost
from tasray.costs.latency_table import LatencyTable
from tasray.costs.latency_units import Unit, candidate_widths, space_units, term_units
from tasray.errors import TasrayError
from tasray.models.factory import build_searchable
from tasray.models.search import PAPER_WIDTH_RATIOS, SearchSpace
from tasray.spec.arch import ArchSpec
from tasray.spec.topology import layer_terms

FULL = ArchSpec.full("cifar_resnet20", 10, 1, (8, 8))


def staircase(unit: Unit) -> float:
    """Seconds that grow in steps of 8 channels, different for every op and shape."""
    blocks = math.ceil(max(unit.cin, 1) / 8) * math.ceil(unit.cout / 8)
    return 1e-6 * (len(unit.op) + unit.kernel + blocks * unit.hw[0] * unit.hw[1] / unit.stride)


def synthetic_table(full: ArchSpec = FULL, seconds=staircase) -> LatencyTable:
    units = space_units(full, PAPER_WIDTH_RATIOS, 1)
    values = {unit: seconds(unit) for unit in units}
    return LatencyTable(
        full.model,
        full.in_channels,
        full.input_size,
        full.num_classes,
        PAPER_WIDTH_RATIOS,
        1,
        batch=1,
        device="cpu",
        device_name="test",
        backend="test",
        dtype="float32",
        timer="cpu time",
        threads=1,
        rounds=1,
        seconds=values,
        medians=values,
    )


def distribution(full: ArchSpec, seed: int, sharp: float = 1.0) -> ArchDistribution:
    """Random probabilities over the paper's search space, as leaf tensors."""
    space, generator = SearchSpace(), torch.Generator().manual_seed(seed)
    widths = [
        WidthDistribution(
            torch.tensor(space.width_candidates(w), dtype=torch.float32),
            torch.softmax(
                sharp * torch.randn(len(space.width_candidates(w)), generator=generator), 0
            ).requires_grad_(),
        )
        for w in full.widths
    ]
    depths = [
        DepthDistribution(
            space.depth_candidates(d),
            torch.softmax(
                sharp * torch.randn(len(space.depth_candidates(d)), generator=generator), 0
            ).requires_grad_(),
        )
        for d in full.depths
    ]
    return ArchDistribution(full, widths, depths)


def sample(dist: ArchDistribution, rng: random.Random) -> ArchSpec:
    full = dist.spec
    pick = lambda values, probs: rng.choices(list(values), weights=probs.tolist())[0]  # noqa: E731
    widths = [int(pick(w.widths.tolist(), w.probs.detach())) for w in dist.widths]
    depths = [pick(d.depths, d.probs.detach()) for d in dist.depths]
    return ArchSpec(full.model, widths, depths, full.in_channels, full.input_size, full.num_classes)


def test_the_expected_latency_of_a_one_hot_distribution_is_the_tables_sum_for_its_argmax() -> None:
    cost = LatencyCost(synthetic_table())
    network = build_searchable(FULL, SearchSpace())
    for seed in range(5):
        with torch.no_grad():
            generator = torch.Generator().manual_seed(seed)
            network.width_logits.copy_(1e4 * torch.randn(network.width_logits.shape, generator=generator))
            network.depth_logits.copy_(1e4 * torch.randn(network.depth_logits.shape, generator=generator))
        spec = network.derive_arch()
        expected = float(cost.expected(network.distribution()).detach())
        assert expected == pytest.approx(cost.table.network_seconds(spec), rel=1e-6)
        assert expected == pytest.approx(cost.exact(spec), rel=1e-6)


def test_the_expected_latency_is_the_mean_latency_of_sampled_architectures() -> None:
    """Gates, stage mixtures and conditional projections: E_cost is the expectation of F_cost."""
    cost, dist, rng = LatencyCost(synthetic_table()), distribution(FULL, seed=3), random.Random(0)
    samples = [cost.exact(sample(dist, rng)) for _ in range(6000)]
    mean = sum(samples) / len(samples)
    stderr = (sum((s - mean) ** 2 for s in samples) / len(samples)) ** 0.5 / len(samples) ** 0.5
    assert float(cost.expected(dist).detach()) == pytest.approx(mean, abs=4 * stderr)


def test_it_is_not_the_table_at_the_expected_widths() -> None:
    """Latency is a staircase in the width: E[LUT(c)] differs from LUT(E[c])."""
    table = synthetic_table()
    dist = distribution(FULL, seed=1, sharp=0.1)
    mean_spec = ArchSpec(
        FULL.model, [round(float(w.mean())) for w in dist.widths], FULL.depths, 1, (8, 8), 10
    )
    assert float(LatencyCost(table).expected(dist).detach()) != pytest.approx(
        table.network_seconds(mean_spec), rel=0.01
    )


def test_gradients_reach_every_candidate_pair_of_a_layer() -> None:
    """∂²E/∂p_in(i)∂p_out(j) is the layer's LUT(c_in_i, c_out_j) times the chance its block exists."""
    table, dist = synthetic_table(), distribution(FULL, seed=2)
    cost = LatencyCost(table)
    expected = cost.expected(dist)
    terms = [t for t in layer_terms(FULL) if t.role == "last" and t.in_ref[0] == "conv"]
    for term in terms[:3]:
        p_in, p_out = dist.widths[term.in_ref[1]].probs, dist.widths[term.out_ref[1]].probs
        first = torch.autograd.grad(expected, p_in, create_graph=True)[0]
        stage, block = term.gate
        keeps = float(dist.depths[stage].keeps(block))
        ins = dist.widths[term.in_ref[1]].widths.long().tolist()
        outs = dist.widths[term.out_ref[1]].widths.long().tolist()
        for i, cin in enumerate(ins):
            row = torch.autograd.grad(first[i], p_out, retain_graph=True)[0]
            lut = [sum(table.lookup(u) for u in term_units(term, cin, cout, False)) for cout in outs]
            assert row.tolist() == pytest.approx([keeps * v for v in lut], rel=1e-4)
    expected.backward()
    for probs in [w.probs for w in dist.widths] + [d.probs for d in dist.depths[:]]:
        assert (probs.grad != 0).all()


def test_unmeasured_widths_are_interpolated_between_their_neighbours() -> None:
    table = synthetic_table(seconds=lambda u: 1e-6 * (u.cin + 2 * u.cout))
    inner = next(u for u in table.seconds if u.op == "conv_bn_relu" and u.hw == (8, 8))
    candidates = candidate_widths(16, PAPER_WIDTH_RATIOS, 1)
    assert 7 not in candidates and 6 in candidates and 8 in candidates
    between = Unit(inner.op, 16, 7, inner.kernel, inner.stride, inner.hw)
    assert table.lookup(between) == pytest.approx(1e-6 * (16 + 14))  # linear in the widths here
    below = Unit(inner.op, 16, 1, inner.kernel, inner.stride, inner.hw)
    lowest = Unit(inner.op, 16, min(candidates), inner.kernel, inner.stride, inner.hw)
    assert table.lookup(below) == table.lookup(lowest)  # clamped at the narrowest measured width


def test_a_table_survives_json_and_pickling_and_hashes_its_content() -> None:
    import pickle

    table = synthetic_table()
    again = LatencyTable.from_json(table.to_json())
    assert again == table and again.identity() == table.identity()
    other = synthetic_table(seconds=lambda u: 2 * staircase(u))
    assert other.identity() != table.identity()
    cost = pickle.loads(pickle.dumps(LatencyCost(table)))
    assert cost.exact(FULL) == LatencyCost(table).exact(FULL)


def test_the_cost_is_built_from_the_experiments_table_and_refuses_another_models() -> None:
    table = synthetic_table()
    cost = create_cost("latency", CostSetup(FULL, None, {TABLE_OPTION: table}))
    assert cost.ratio(FULL) == 1.0 and COSTS.get("latency").ratio_column == "latency_ratio"
    assert cost.identity() == f"latency:{table.identity()}"
    other = ArchSpec.full("cifar_resnet20", 10, 3, (32, 32))
    with pytest.raises(TasrayError, match="the latency table is for cifar_resnet20 at 1×8×8 with 10 classes"):
        create_cost("latency", CostSetup(other, None, {TABLE_OPTION: table}))
    with pytest.raises(TasrayError, match="needs a latency table"):
        create_cost("latency", CostSetup(FULL))


def test_a_damaged_table_is_one_line() -> None:
    with pytest.raises(TasrayError, match="not a latency table"):
        LatencyTable.from_json('{"format": "other"}')
    with pytest.raises(TasrayError, match="a damaged latency table"):
        LatencyTable.from_json('{"format": "tasray-latency-table/1", "model": "x"}')
