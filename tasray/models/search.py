"""The searchable super-network of TAS: one learnable α per conv over candidate widths and one β per
stage over candidate depths (paper Sec. 3.1, Eq. 2–5).

`SearchableResNet.forward(x)` samples |I| widths for every conv, convolves only up to the widest
sampled width (weight slices, no zero padding), normalises each sampled width with its own
BatchNorm, aligns them with CWI and sums them with the renormalised Gumbel-softmax weights (Eq. 4):
up to `MIXING_MAX_WIDTH` channels as one normalisation and one channel-mixing matrix
(`tasray.tas.mixing_norm`), wider one candidate at a time. Each stage's output mixes its outputs at
every candidate depth with Gumbel-softmax weights over all of them (Eq. 5; as the authors' code does,
|I| applies to widths only). Inside the super-network a residual sum of unequal widths adds the
narrower map into the first channels of the wider one, as the authors' code does; the pruned network
uses a 1×1 projection instead. Maps are channels-last (`tasray.tas.layout`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tasray.costs.base import ArchDistribution, Cost, DepthDistribution, WidthDistribution
from tasray.errors import TasrayError
from tasray.spec.arch import ArchSpec
from tasray.spec.widths import round_width
from tasray.tas.cwi import cwi, cwi_matrix
from tasray.tas.gumbel import MASKED_LOGIT, gumbel_select, gumbel_softmax
from tasray.tas.layout import from_pixel_rows, pixel_rows
from tasray.tas.mixing_norm import mixing_batch_norm

PAPER_WIDTH_RATIOS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
# Up to this width a conv's candidates are mixed by one (C × C) matrix product (`mixing_batch_norm`);
# wider, its C² multiply-adds per pixel cost more than normalising the candidates one by one (one
# conv's forward + backward on one CPU thread: 1.8× faster at 16 channels, even at 64, 1.1× slower
# at 128 and 4× at 2048).
MIXING_MAX_WIDTH = 64
VARIANTS = {"tas": (True, True), "tas_w": (True, False), "tas_d": (False, True)}


@dataclass(frozen=True)
class SearchSpace:
    """Which sizes the search may choose.

    Args:
        width_ratios: candidate widths as fractions of each conv's original width (paper:
            0.3, 0.4, …, 1.0). Rounded, never below 1 channel; duplicates after rounding dropped.
        min_depth: each stage's depth candidates are min_depth..n (n = its original depth; the
            default 1 gives every depth, the search space of the paper's "18³" for ResNet-164).
        num_selected: |I|, candidates aggregated per forward (≥ 2).
        variant: ``tas`` (width and depth), ``tas_w`` (width only) or ``tas_d`` (depth only).
        width_multiple: candidate widths are rounded to multiples of this (`round_width`).
    """

    width_ratios: tuple[float, ...] = PAPER_WIDTH_RATIOS
    min_depth: int = 1
    num_selected: int = 2
    variant: str = "tas"
    width_multiple: int = 1

    def __post_init__(self) -> None:
        if self.num_selected < 2:
            raise TasrayError(
                f"num_selected (|I|) = {self.num_selected}; must be >= 2: with |I| = 1 the "
                "renormalised weight is the constant 1 and α gets no gradient (paper Sec. 4.2)"
            )
        if self.variant not in VARIANTS:
            raise TasrayError(f"variant = {self.variant!r}; allowed: {', '.join(VARIANTS)}")
        if not self.width_ratios or not all(0 < r <= 1 for r in self.width_ratios):
            raise TasrayError(f"width_ratios = {list(self.width_ratios)}; each must be in (0, 1]")
        if self.min_depth < 1:
            raise TasrayError(f"min_depth = {self.min_depth}; must be >= 1")
        if self.width_multiple < 1:
            raise TasrayError(f"width_multiple = {self.width_multiple}; must be >= 1")

    def width_candidates(self, max_width: int) -> tuple[int, ...]:
        if not VARIANTS[self.variant][0]:
            return (max_width,)
        widths = {round_width(r * max_width, max_width, self.width_multiple) for r in self.width_ratios}
        return tuple(sorted(widths))

    def depth_candidates(self, max_depth: int) -> tuple[int, ...]:
        if not VARIANTS[self.variant][1]:
            return (max_depth,)
        return tuple(range(min(self.min_depth, max_depth), max_depth + 1))


class CandidateConv(nn.Module):
    """A conv whose output width is one of `candidates`, each with its own BatchNorm (Eq. 4)."""

    def __init__(self, cin: int, candidates: tuple[int, ...], kernel: int, stride: int) -> None:
        super().__init__()
        self.candidates, self.stride, self.padding = candidates, stride, kernel // 2
        self.weight = nn.Parameter(torch.empty(candidates[-1], cin, kernel, kernel))
        nn.init.kaiming_normal_(self.weight, mode="fan_out", nonlinearity="relu")
        self.norms = nn.ModuleList(nn.BatchNorm2d(c) for c in candidates)

    def forward(
        self, x: Tensor, chosen: list[int], weights: Tensor, residual: Tensor | None = None
    ) -> Tensor:
        """Σ_k w_k·CWI(BN_k(conv(x)[:, :c_k])) over the chosen candidate positions (Eq. 4), and
        `residual` added into the first channels of the wider of the two (see `add_into_prefix`)."""
        widths = [self.candidates[i] for i in chosen]
        out = F.conv2d(x, self.weight[: max(widths), : x.shape[1]], None, self.stride, self.padding)
        norms = [self.norms[i] for i in chosen]
        if len(chosen) == 1 or not self.training or out.shape[1] > MIXING_MAX_WIDTH:
            mixed = self.one_by_one(out, norms, weights)
            return mixed if residual is None else add_into_prefix(mixed, residual)
        width = out.shape[1] if residual is None else max(out.shape[1], residual.shape[1])
        maps, channels = side_by_side_cwi(tuple(widths), width, out.device, out.dtype)  # cached
        scales = torch.cat([n.weight * w for n, w in zip(norms, weights, strict=True)])
        mixing = out.new_zeros(width, out.shape[1]).index_add_(1, channels, maps * scales)
        shift = maps @ torch.cat([n.bias * w for n, w in zip(norms, weights, strict=True)])
        mixed, mean, var = mixing_batch_norm(out, mixing, shift, norms[0].eps, residual)
        count = out.numel() // out.shape[1]
        with torch.no_grad():  # each candidate's running statistics, as its BatchNorm would update them
            unbiased = var * (count / (count - 1))
            for norm, c in zip(norms, widths, strict=True):
                norm.running_mean.lerp_(mean[:c], norm.momentum)
                norm.running_var.lerp_(unbiased[:c], norm.momentum)
                norm.num_batches_tracked.add_(1)
        return mixed

    @staticmethod
    def one_by_one(out: Tensor, norms: list[nn.BatchNorm2d], weights: Tensor) -> Tensor:
        """Eq. 4 one candidate at a time, each Gumbel weight folded into its BatchNorm's affine: in
        evaluation (each candidate has running statistics of its own) and for maps too wide for the
        (C × C) mixing matrix to pay."""
        if len(norms) == 1:
            return norms[0](out)
        total = None
        for norm, w in zip(norms, weights, strict=True):
            part = F.batch_norm(
                out[:, : norm.num_features],
                norm.running_mean,
                norm.running_var,
                norm.weight * w,
                norm.bias * w,
                norm.training,
                norm.momentum,
                norm.eps,
            )
            if norm.training:
                norm.num_batches_tracked.add_(1)
            part = cwi(part, out.shape[1])
            total = part if total is None else total + part
        return total


@lru_cache(maxsize=1024)  # small matrices (≤ 128 rows), a few hundred per network
def side_by_side_cwi(
    widths: tuple[int, ...], rows: int, device: torch.device, dtype: torch.dtype
) -> tuple[Tensor, Tensor]:
    """CWI's matrices from each of `widths` to the widest, side by side with zero rows below it up
    to `rows`, and the channel each of their columns reads: A = Σ_k M_k·diag(s_k) is then one product."""
    widest = max(widths)
    maps = torch.cat([cwi_matrix(c, widest, device, dtype) for c in widths], dim=1)
    channels = torch.cat([torch.arange(c, device=device) for c in widths])
    return F.pad(maps, (0, 0, 0, rows - widest)), channels


class SlicedProjection(nn.Module):
    """The 1×1 projection shortcut of the unpruned block, sliced to the sampled widths."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.weight = nn.Parameter(torch.empty(cout, cin, 1, 1))
        nn.init.kaiming_normal_(self.weight, mode="fan_out", nonlinearity="relu")
        self.norm = nn.BatchNorm2d(cout)

    def forward(self, x: Tensor, cout: int) -> Tensor:
        out = F.conv2d(x, self.weight[:cout, : x.shape[1]], None, self.stride)
        n = self.norm
        return F.batch_norm(
            out,
            n.running_mean[:cout],
            n.running_var[:cout],
            n.weight[:cout],
            n.bias[:cout],
            self.training,
            n.momentum,
            n.eps,
        )


def add_into_prefix(a: Tensor, b: Tensor) -> Tensor:
    """a + b where the narrower map is added into the first channels of the wider one.

    A residual sum inside the super-network: its shortcut and branch widths differ whenever the
    sampled widths do. Keeping every channel of the wider map (instead of cropping it) is the
    authors' form, so the width that reaches the next block is the larger of the two.
    """
    if a.shape[1] < b.shape[1]:
        a, b = b, a
    if a.shape[1] == b.shape[1]:
        return a + b
    return a + F.pad(b, (0, 0, 0, 0, 0, a.shape[1] - b.shape[1]))


@dataclass
class SearchOutput:
    """What a search forward returns: the logits, and the network whose distribution E_cost needs."""

    logits: Tensor
    network: SearchableResNet = field(repr=False)

    def expected_cost(self, cost: Cost) -> Tensor:
        """E_cost under `cost` of the network's architecture distribution, differentiable in α and β."""
        return cost.expected(self.network.distribution())


class SearchableResNet(nn.Module):
    """Super-network over every width and depth of `spec.model` allowed by `space`.

    Set `tau` (the Gumbel-softmax temperature) before each forward; `sampler` is the generator of
    the Gumbel noise: give it the same seed on every data-parallel rank so that all ranks sample
    the same architecture.
    """

    def __init__(self, spec: ArchSpec, space: SearchSpace) -> None:
        super().__init__()
        self.spec, self.space, self.family = spec, space, spec.family
        self.tau = 10.0
        self.sampler: torch.Generator | None = None
        family, max_widths = self.family, self.family.max_widths()
        self.width_options = [space.width_candidates(w) for w in max_widths]
        self.depth_options = [space.depth_candidates(d) for d in family.stage_depths]
        kernel, stride = (3, 1) if family.stem == "cifar" else (7, 2)
        self.stem = CandidateConv(spec.in_channels, self.width_options[0], kernel, stride)
        self.blocks = nn.ModuleList()
        self.projections = nn.ModuleDict()
        cin = max_widths[0]
        for stage, depth in enumerate(family.stage_depths):
            for block in range(depth):
                convs = nn.ModuleList()
                block_in = cin
                for position, k in enumerate(family.block_kernels):
                    index = family.conv_index(stage, block, position)
                    stride = (
                        family.stage_strides[stage] if block == 0 and position == family.stride_conv else 1
                    )
                    convs.append(CandidateConv(cin, self.width_options[index], k, stride))
                    cin = max_widths[index]
                self.blocks.append(convs)
                if family.source_has_projection(stage, block):
                    self.projections[f"{stage}_{block}"] = SlicedProjection(
                        block_in, cin, family.stage_strides[stage]
                    )
        self.fc = nn.Linear(cin, spec.num_classes)
        self.width_logits = nn.Parameter(torch.zeros(len(max_widths), max(map(len, self.width_options))))
        self.depth_logits = nn.Parameter(
            torch.zeros(len(self.depth_options), max(map(len, self.depth_options)))
        )
        with torch.no_grad():  # tiny noise breaks the ties of a uniform start (argmax of equal α)
            self.width_logits.normal_(0, 1e-3)
            self.depth_logits.normal_(0, 1e-3)
        self.register_buffer("width_mask", self._mask(self.width_options), persistent=False)
        self.register_buffer("depth_mask", self._mask(self.depth_options), persistent=False)
        # listed once: every search step asks for them, and walking ~1000 modules is not free
        self._weights = [
            p for p in self.parameters() if p is not self.width_logits and p is not self.depth_logits
        ]

    @staticmethod
    def _mask(options: list[tuple[int, ...]]) -> Tensor:
        mask = torch.zeros(len(options), max(map(len, options)), dtype=torch.bool)
        for row, values in enumerate(options):
            mask[row, : len(values)] = True
        return mask

    def arch_parameters(self) -> list[nn.Parameter]:
        """α (width logits, one row per conv) and β (depth logits, one row per stage)."""
        return [self.width_logits, self.depth_logits]

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every parameter but α and β."""
        return self._weights

    def _logits(self) -> tuple[Tensor, Tensor]:
        return (
            self.width_logits.masked_fill(~self.width_mask, MASKED_LOGIT),
            self.depth_logits.masked_fill(~self.depth_mask, MASKED_LOGIT),
        )

    def forward(self, x: Tensor) -> SearchOutput:
        width_logits, depth_logits = self._logits()
        k = min(self.space.num_selected, width_logits.shape[1])
        widths = gumbel_select(width_logits, self.tau, k, self.sampler)
        depth_weights = gumbel_softmax(depth_logits, self.tau, self.sampler)
        # The one host sync per forward: tensor shapes depend on the sampled widths.
        width_choice = self._chosen(widths.indices.flatten().tolist(), k, self.width_options)
        x = x.contiguous(memory_format=torch.channels_last)  # see `tasray.tas.layout`

        def conv(module: CandidateConv, index: int, inp: Tensor, residual: Tensor | None = None) -> Tensor:
            slots, chosen = width_choice[index]
            return module(inp, chosen, widths.weights[index, slots], residual)

        out = F.relu_(conv(self.stem, 0, x))
        block_id = 0
        for stage, depth in enumerate(self.family.stage_depths):
            candidates = self.depth_options[stage]
            outputs: list[Tensor] = []
            for block in range(depth):
                convs, key = self.blocks[block_id + block], f"{stage}_{block}"
                branch = out
                for position, module in enumerate(convs[:-1]):
                    branch = F.relu_(conv(module, self.family.conv_index(stage, block, position), branch))
                last = self.family.conv_index(stage, block, len(convs) - 1)
                shortcut = out
                if key in self.projections:  # as wide as the block's output
                    shortcut = self.projections[key](out, convs[-1].candidates[max(width_choice[last][1])])
                out = F.relu_(conv(convs[-1], last, branch, shortcut))
                if block + 1 in candidates:
                    outputs.append(out)
            block_id += depth
            out = self._aggregate_depths(outputs, depth_weights[stage, : len(candidates)])
        features = F.adaptive_avg_pool2d(out, 1).flatten(1)
        logits = F.linear(features, self.fc.weight[:, : features.shape[1]], self.fc.bias)
        return SearchOutput(logits, self)

    @staticmethod
    def _chosen(flat: list[int], k: int, options: list[tuple[int, ...]]) -> list[tuple[list[int], list[int]]]:
        """Per row: the sample slots and candidate positions that are real (not padding)."""
        rows = []
        for row, values in enumerate(options):
            picks = flat[row * k : (row + 1) * k]
            slots = [slot for slot, i in enumerate(picks) if i < len(values)]
            rows.append((slots, [picks[s] for s in slots]))
        return rows

    @staticmethod
    def _aggregate_depths(outputs: list[Tensor], weights: Tensor) -> Tensor:
        """Eq. 5: the stage's outputs at its candidate depths, aligned by CWI, weighted by p̂."""
        if len(outputs) == 1:
            return outputs[0]
        widest = max(range(len(outputs)), key=lambda d: outputs[d].shape[1])
        # Summed as (pixels × channels) matrices, in place into one that is no view of another
        total = pixel_rows(outputs[widest]) * weights[widest]
        for d, (t, w) in enumerate(zip(outputs, weights.unbind(), strict=True)):
            if d == widest:
                continue
            if t.shape[1] < total.shape[1]:
                t = cwi(t, total.shape[1])
            total.addcmul_(pixel_rows(t), w)
        return from_pixel_rows(total, outputs[widest])

    def probabilities(self) -> tuple[list[Tensor], list[Tensor]]:
        """p = softmax(α) per conv and q = softmax(β) per stage, over each row's real candidates."""
        width_logits, depth_logits = self._logits()
        p, q = torch.softmax(width_logits, -1), torch.softmax(depth_logits, -1)
        return (
            [p[row, : len(o)] for row, o in enumerate(self.width_options)],
            [q[row, : len(o)] for row, o in enumerate(self.depth_options)],
        )

    def distribution(self) -> ArchDistribution:
        """The architecture distribution p (widths) and q (depths) that E_cost averages over."""
        p, q = self.probabilities()
        device = self.width_logits.device
        widths = [
            WidthDistribution(torch.tensor(o, dtype=torch.float32, device=device), probs)
            for o, probs in zip(self.width_options, p, strict=True)
        ]
        depths = [DepthDistribution(o, probs) for o, probs in zip(self.depth_options, q, strict=True)]
        return ArchDistribution(self.spec, widths, depths)

    @torch.no_grad()
    def derive_arch(self) -> ArchSpec:
        """The most likely width of every conv and depth of every stage (paper Sec. 3.1)."""
        width_logits, depth_logits = self._logits()
        best = torch.cat([width_logits.argmax(-1), depth_logits.argmax(-1)]).tolist()  # one host sync
        widths = [o[i] for o, i in zip(self.width_options, best, strict=False)]
        depths = [o[i] for o, i in zip(self.depth_options, best[len(widths) :], strict=True)]
        return ArchSpec(
            self.spec.model,
            tuple(widths),
            tuple(depths),
            self.spec.in_channels,
            self.spec.input_size,
            self.spec.num_classes,
        )

    @torch.no_grad()
    def discrepancy(self) -> float:
        """Mean gap between the two most likely candidates over all searched rows (Fig. 3b/3d)."""
        p, q = self.probabilities()
        gaps = [probs.topk(2).values for probs in p + q if len(probs) > 1]
        return float(torch.stack([g[0] - g[1] for g in gaps]).mean()) if gaps else 1.0


def derive_arch(network: SearchableResNet) -> ArchSpec:
    """The pruned architecture of a searched super-network: its most likely candidates."""
    return network.derive_arch()
