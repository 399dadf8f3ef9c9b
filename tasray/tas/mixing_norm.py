"""BatchNorm whose affine is a channel-mixing matrix: z = A·x̂ + b, x̂ = (y − μ)/√(σ² + ε) per channel.

This is Eq. 4 for all |I| sampled widths of a conv at once. The candidates' BatchNorms normalise the
same output channels of the same conv with the same batch statistics (they are per channel), so
Σ_k w_k·CWI(BN_k(y[:, :c_k])) = A·x̂ + b with A = Σ_k w_k·M_k·diag(γ_k) and b = Σ_k w_k·M_k·β_k,
where M_k is CWI's matrix from c_k to C channels (`tasray.tas.cwi.cwi_matrix`). The statistics are
computed once and the mix is one matrix product over the pixels; the backward pass needs one product
for ∂L/∂A (a Gram matrix of the output gradient and the input) and one for ∂L/∂y. A is small
(C_out × C) and is built with autograd, which carries ∂L/∂A on to the Gumbel weights, γ and β.

Maps are channels-last here (`tasray.tas.layout`): the mix is then one product of the (N·H·W × C)
matrix of pixels, with no copy.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx

from tasray.tas.layout import from_pixel_rows, pixel_rows


class _MixingBatchNorm(torch.autograd.Function):
    """z = A·(y − μ)·r + b (+ a residual in the first channels), with the batch's per-channel mean μ
    and r = 1/√(σ² + ε), σ² the biased variance."""

    @staticmethod
    def forward(
        ctx: FunctionCtx, y: Tensor, mixing: Tensor, shift: Tensor, residual: Tensor | None, eps: float
    ):  # type: ignore[override]
        rows = pixel_rows(y)
        if rows.shape[0] < 2:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {list(y.shape)}"
            )
        mean = rows.mean(0)
        var = (rows - mean).square_().mean(0)  # two passes: no cancellation
        invstd = (var + eps).rsqrt()
        scaled = mixing * invstd  # A·diag(r): the normalisation folded into the mixing matrix
        n, _, h, w = y.shape  # the output is no view, so that callers may work on it in place
        out = torch.empty(
            (n, mixing.shape[0], h, w), dtype=y.dtype, device=y.device, memory_format=torch.channels_last
        )
        out_rows = torch.addmm(shift - scaled @ mean, rows, scaled.t(), out=pixel_rows(out))
        if residual is not None:
            out_rows[:, : residual.shape[1]] += pixel_rows(residual)
        ctx.save_for_backward(y, mean, invstd, mixing)
        ctx.residual_width = None if residual is None else residual.shape[1]
        ctx.mark_non_differentiable(mean, var)
        return out, mean, var

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor, _mean: Tensor, _var: Tensor):  # type: ignore[override]
        y, mean, invstd, mixing = ctx.saved_tensors
        rows, grad_rows = pixel_rows(y), pixel_rows(grad)
        grad_residual = None
        if ctx.residual_width is not None and ctx.needs_input_grad[3]:
            grad_residual = from_pixel_rows(grad_rows[:, : ctx.residual_width].contiguous(), y)
        grad_shift = grad_rows.sum(0)
        gram = grad_rows.t() @ rows  # Σ g_i·y_j over the pixels
        grad_mixing = (gram - grad_shift[:, None] * mean) * invstd  # Σ g_i·x̂_j
        if not ctx.needs_input_grad[0]:
            return None, grad_mixing, grad_shift, grad_residual, None
        # BatchNorm's backward for u = Aᵀg = ∂L/∂x̂: r·(u − mean(u) − x̂·mean(u·x̂)). Both means come
        # from the sums above, so ∂L/∂y is one product plus one affine map of y.
        mean_u = mixing.t() @ grad_shift / rows.shape[0]
        mean_ux = (mixing * grad_mixing).sum(0) / rows.shape[0]
        scale = -invstd.square() * mean_ux
        grad_y = torch.addcmul(-scale * mean - invstd * mean_u, rows, scale).addmm_(
            grad_rows, mixing * invstd
        )
        return from_pixel_rows(grad_y, y), grad_mixing, grad_shift, grad_residual, None


def mixing_batch_norm(
    y: Tensor, mixing: Tensor, shift: Tensor, eps: float, residual: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """(A·x̂ + b, μ, σ²) for a batch y (N, C, H, W) in training: x̂ is y normalised with the batch's
    per-channel mean μ and biased variance σ²; A (C_out × C) mixes the channels, b (C_out) shifts.
    A `residual` no wider than C_out is added into the first channels of the result."""
    return _MixingBatchNorm.apply(y, mixing, shift, residual, eps)
