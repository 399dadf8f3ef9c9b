"""The units of a latency table: every layer of every network of a search space is covered."""

import random

import torch

from tasray.costs.latency_units import network_units, space_units, unit_run
from tasray.models.factory import build_network
from tasray.models.search import PAPER_WIDTH_RATIOS, SearchSpace
from tasray.spec.arch import ArchSpec


def sampled(full: ArchSpec, space: SearchSpace, rng: random.Random) -> ArchSpec:
    widths = [rng.choice(space.width_candidates(w)) for w in full.widths]
    depths = [rng.choice(space.depth_candidates(d)) for d in full.depths]
    return ArchSpec(full.model, widths, depths, full.in_channels, full.input_size, full.num_classes)


def test_the_search_space_units_cover_every_network_of_the_space() -> None:
    rng = random.Random(0)
    for model, size in (("cifar_resnet20", (8, 8)), ("cifar_resnet164", (16, 16)), ("resnet18", (64, 64))):
        full = ArchSpec.full(model, 10, 3, size)
        for multiple in (1, 8):
            units = set(space_units(full, PAPER_WIDTH_RATIOS, multiple))
            space = SearchSpace(width_multiple=multiple)
            for spec in [full] + [sampled(full, space, rng) for _ in range(20)]:
                assert set(network_units(spec)) <= units


def test_a_network_is_its_units_in_forward_order() -> None:
    """Stem, each block's convs with the residual addition after its last, projections, head."""
    full = ArchSpec.full("resnet18", 10, 3, (64, 64))
    ops = [unit.op for unit in network_units(full)]
    assert ops[0] == "stem_pool" and ops[-1] == "head"
    assert ops.count("add_relu") == sum(full.depths) and ops.count("shortcut") == 3  # stages 2–4
    first_block = ops[1:4]
    assert first_block == ["conv_bn_relu", "conv_bn", "add_relu"]


def test_every_unit_runs_the_shapes_of_its_layer() -> None:
    full = ArchSpec.full("cifar_resnet20", 10, 1, (8, 8))
    spec = sampled(full, SearchSpace(), random.Random(1))
    network = build_network(spec).eval()
    with torch.no_grad():
        network(torch.randn(1, 1, 8, 8))
        for unit in network_units(spec):
            out = unit_run(unit, 2, torch.device("cpu"), torch.float32, {})()
            assert out.shape[:2] == (2, unit.cout)
