"""Channel-wise interpolation (CWI, paper footnote 2): align feature maps of different widths.

B = CWI(A, C_out) with B_i = mean(A_{s:e−1}), s = ⌊i·C/C_out⌋, e = ⌈(i+1)·C/C_out⌉. That is adaptive
average pooling over the channel axis. The search only ever widens (C ≤ C_out), where each output
channel averages one or two neighbouring input channels, so that case is one or two gathers, about 3×
faster than generic adaptive pooling. `cwi_matrix` is the same map as a matrix.
"""

from __future__ import annotations

from functools import cache

import torch
import torch.nn.functional as F
from torch import Tensor

from tasray.tas.layout import from_pixel_rows, pixel_rows


@cache
def _widening_indices(channels: int, out_channels: int, device: torch.device) -> tuple[Tensor, Tensor | None]:
    """First and last input channel averaged into each output channel, when widening.

    The last is None when it always equals the first (C_out a multiple of C): one gather suffices.
    """
    first = [i * channels // out_channels for i in range(out_channels)]
    last = [-(-(i + 1) * channels // out_channels) - 1 for i in range(out_channels)]
    return torch.tensor(first, device=device), None if first == last else torch.tensor(last, device=device)


def cwi(x: Tensor, out_channels: int) -> Tensor:
    """Resize the channel axis (dim 1) of an NCHW tensor to `out_channels` by adaptive averaging.

    A channels-last map stays channels-last: it is widened by gathering columns of its pixel rows.
    """
    channels = x.shape[1]
    if channels == out_channels:
        return x
    if channels > out_channels:
        return F.adaptive_avg_pool3d(x.unsqueeze(1), (out_channels, *x.shape[2:])).squeeze(1)
    first, last = _widening_indices(channels, out_channels, x.device)
    if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last):
        return from_pixel_rows(_average_of_gathers(pixel_rows(x), first, last), x)
    return _average_of_gathers(x, first, last)


def _average_of_gathers(x: Tensor, first: Tensor, last: Tensor | None) -> Tensor:
    out = x.index_select(1, first)
    return out if last is None else out.add_(x.index_select(1, last)).mul_(0.5)


@cache
def cwi_matrix(channels: int, out_channels: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """CWI as the (out_channels × channels) matrix M with CWI(x) = M·x along the channel axis.

    CWI is linear in the channels, so its matrix is CWI applied to the identity. The search folds
    it, with each candidate's BatchNorm affine, into one channel-mixing matrix per conv.
    """
    identity = torch.eye(channels, device=device, dtype=dtype).view(channels, channels, 1, 1)
    return cwi(identity, out_channels).view(channels, out_channels).t()
