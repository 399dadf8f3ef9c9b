"""Channels-last maps as matrices: an (N, C, H, W) map stored NHWC is an (N·H·W, C) matrix of pixels.

The search keeps its maps channels-last: oneDNN's CPU convolutions then run without reordering their
inputs and outputs, and per-channel work (normalisation, CWI, mixing channels) is work on the
columns of a contiguous matrix.
"""

from __future__ import annotations

from torch import Tensor


def pixel_rows(y: Tensor) -> Tensor:
    """y (N, C, H, W) as its (N·H·W, C) matrix of pixels: a view when y is channels-last."""
    return y.permute(0, 2, 3, 1).reshape(-1, y.shape[1])


def from_pixel_rows(rows: Tensor, like: Tensor) -> Tensor:
    """The (N, C, H, W) channels-last map whose pixels are `rows`, with the N, H, W of `like`."""
    n, _, h, w = like.shape
    return rows.view(n, h, w, rows.shape[1]).permute(0, 3, 1, 2)
