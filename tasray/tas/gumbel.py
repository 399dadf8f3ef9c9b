"""Gumbel-softmax weights: over |I| sampled candidates, renormalised (paper Eq. 3–4, widths), or over
every candidate (Eq. 5 as the authors' code computes it, depths).

All rows (one per conv, or one per stage) are sampled in one vectorised call: padded logits per row,
Gumbel-top-k for drawing |I| distinct candidates from the multinomial of p̂ without replacement.
No rejection loop, no host synchronisation; every step is finite for finite logits and τ > 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

MASKED_LOGIT = -1.0e4  # padding for rows with fewer candidates: probability exp(-1e4) == 0


@dataclass(frozen=True)
class Selection:
    """|I| sampled candidates per row and their renormalised Gumbel-softmax weights."""

    indices: Tensor  # (rows, k) candidate positions, on the logits' device
    weights: Tensor  # (rows, k) differentiable; each row sums to 1


def gumbel_noise(shape: torch.Size, like: Tensor, generator: torch.Generator | None) -> Tensor:
    """o = −log(−log u), u ~ U(0, 1), with u kept away from 0 and 1 so that o is finite."""
    finfo = torch.finfo(like.dtype)
    u = torch.rand(shape, generator=generator, device=like.device, dtype=like.dtype)
    return -torch.log(-torch.log(u.clamp(finfo.tiny, 1.0 - finfo.eps)))


def gumbel_softmax(logits: Tensor, tau: float, generator: torch.Generator | None = None) -> Tensor:
    """p̂ = softmax((log softmax(α) + o) / τ) over every candidate of each row (Eq. 3); rows sum to 1."""
    if tau <= 0:
        raise ValueError(f"tau = {tau}; must be > 0")
    log_p = torch.log_softmax(logits, dim=-1)
    return torch.softmax((log_p + gumbel_noise(logits.shape, logits, generator)) / tau, dim=-1)


def gumbel_select(logits: Tensor, tau: float, k: int, generator: torch.Generator | None = None) -> Selection:
    """Sample k distinct candidates per row of `logits` (rows, K) and renormalise their weights.

    p = softmax(α) (Eq. 2); p̂ = softmax((log p + o) / τ) (Eq. 3); I ~ multinomial(p̂) without
    replacement; weights = p̂_I / Σ p̂_I (Eq. 4). With k = 1 the weight is the constant 1, so α gets
    no gradient: the reason callers require |I| ≥ 2.
    """
    if not 1 <= k <= logits.shape[-1]:
        raise ValueError(f"k = {k}; must be between 1 and the number of candidates {logits.shape[-1]}")
    if tau <= 0:
        raise ValueError(f"tau = {tau}; must be > 0")
    log_p = torch.log_softmax(logits, dim=-1)
    scores = (log_p + gumbel_noise(logits.shape, logits, generator)) / tau  # log p̂ up to a constant
    with torch.no_grad():  # Gumbel-top-k draws k items of p̂ without replacement in one shot
        keys = torch.log_softmax(scores, dim=-1) + gumbel_noise(logits.shape, logits, generator)
        indices = keys.topk(k, dim=-1).indices
    weights = torch.softmax(scores.gather(-1, indices), dim=-1)
    return Selection(indices, weights)
