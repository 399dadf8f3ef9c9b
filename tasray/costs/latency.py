"""Measured latency as a cost (`search.cost: latency`): a latency table's prediction of a pruned
network (F_cost), and its expectation over the search's architecture distribution (E_cost).

Latency is a staircase in the width (kernels work on blocks of channels), so E_cost is not the
table at the expected widths: every layer contributes Σ p(c_in)·p(c_out)·LUT(c_in, c_out) over
its candidate pairs, times the probability that its block exists; a stage's output width is a
mixture over its depths, and a conditional projection counts only the pairs of unequal widths.
Every E_cost term is built from the same units as F_cost, so the expected latency of a one-hot
distribution is the table's sum for its argmax.
"""

from __future__ import annotations

import numpy as np
import torch

from tasray.costs.base import COSTS, ArchDistribution, Cost, CostSetup
from tasray.costs.latency_table import LatencyTable
from tasray.costs.latency_units import term_units
from tasray.errors import TasrayError
from tasray.spec.arch import ArchSpec
from tasray.spec.topology import ConvTerm, WidthRef, layer_terms, stage_output_conv

TABLE_OPTION = "latency_table"  # the `CostSetup.options` key the engine passes the table under


@COSTS.register("latency")
class LatencyCost(Cost):
    """Seconds of one forward pass at the table's batch on the table's device."""

    name, label, ratio_column = "latency", "latency", "latency_ratio"

    def __init__(self, table: LatencyTable) -> None:
        self.table = table
        self._matrices: dict[tuple, torch.Tensor] = {}

    @classmethod
    def build(cls, setup: CostSetup) -> LatencyCost:
        table = setup.options.get(TABLE_OPTION)
        if table is None:
            raise TasrayError("search.cost latency needs a latency table; the experiment provides none")
        table.check_fits(setup.full_spec)
        return cls(table)

    def exact(self, spec: ArchSpec) -> float:
        return self.table.network_seconds(spec)

    def expected(self, distribution: ArchDistribution) -> torch.Tensor:
        spec = distribution.spec
        probs = distribution.widths[0].probs
        # One host sync for every conv's candidate widths, not one per layer.
        flat = torch.cat([w.widths for w in distribution.widths]).round().long().tolist()
        sizes = [len(w.widths) for w in distribution.widths]
        starts = np.cumsum([0, *sizes])
        candidates = [tuple(flat[a:b]) for a, b in zip(starts[:-1], starts[1:], strict=True)]

        def ref(reference: WidthRef) -> tuple[tuple[int, ...], torch.Tensor]:
            kind, value = reference
            if kind == "const":
                return (value,), torch.ones(1, dtype=probs.dtype, device=probs.device)
            if kind == "conv":
                return candidates[value], distribution.widths[value].probs
            depths = distribution.depths[value]
            convs = [stage_output_conv(spec.family, value, d) for d in depths.depths]
            union = tuple(sorted({w for conv in convs for w in candidates[conv]}))
            mixture = torch.zeros(len(union), dtype=probs.dtype, device=probs.device)
            for q, conv in zip(depths.probs.unbind(), convs, strict=True):
                index = torch.tensor([union.index(w) for w in candidates[conv]], device=probs.device)
                mixture = mixture.index_add(0, index, q * distribution.widths[conv].probs)
            return union, mixture

        total = torch.zeros((), dtype=probs.dtype, device=probs.device)
        for term in layer_terms(spec):
            (ins, p_in), (outs, p_out) = ref(term.in_ref), ref(term.out_ref)
            value = p_in @ self._matrix(term, ins, outs, spec, p_in) @ p_out
            if term.gate is not None:
                value = value * distribution.depths[term.gate[0]].keeps(term.gate[1])
            total = total + value
        return total

    def _matrix(
        self, term: ConvTerm, ins: tuple[int, ...], outs: tuple[int, ...], spec: ArchSpec, like: torch.Tensor
    ) -> torch.Tensor:
        """LUT(c_in, c_out) of one layer over its candidate pairs (0 where a conditional projection
        is absent), built once per layer and device."""
        key = (term.name, ins, outs, like.device, like.dtype)
        if key not in self._matrices:
            stem_pool = spec.family.stem == "imagenet"
            cells = [
                [
                    0.0
                    if term.conditional and cin == cout
                    else sum(self.table.lookup(u) for u in term_units(term, cin, cout, stem_pool))
                    for cout in outs
                ]
                for cin in ins
            ]
            self._matrices[key] = torch.tensor(cells, dtype=like.dtype, device=like.device)
        return self._matrices[key]

    def identity(self) -> str:
        return f"latency:{self.table.identity()}"

    def __getstate__(self) -> dict:
        # Travels pickled inside a SearchJob: the table, not matrices cached on another device.
        return {"table": self.table, "_matrices": {}}
