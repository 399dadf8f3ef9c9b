import math

import pytest
import torch

from tasray.tas.cwi import cwi, cwi_matrix


def footnote_cwi(a: torch.Tensor, out_channels: int) -> torch.Tensor:
    """B_i = mean(A_{s:e-1}), s = floor(i C / C_out), e = ceil((i + 1) C / C_out), written as loops."""
    channels = a.shape[1]
    parts = []
    for i in range(out_channels):
        s, e = math.floor(i * channels / out_channels), math.ceil((i + 1) * channels / out_channels)
        parts.append(a[:, s:e].mean(dim=1))
    return torch.stack(parts, dim=1)


@pytest.mark.parametrize(
    ("channels", "out_channels"), [(3, 8), (5, 16), (16, 64), (45, 64), (7, 7), (64, 16), (10, 3), (1, 5)]
)
def test_cwi_matches_the_footnote_formula(channels: int, out_channels: int) -> None:
    a = torch.randn(2, channels, 3, 4)
    torch.testing.assert_close(cwi(a, out_channels), footnote_cwi(a, out_channels))
    nhwc = cwi(a.contiguous(memory_format=torch.channels_last), out_channels)
    torch.testing.assert_close(nhwc, footnote_cwi(a, out_channels))
    if channels < out_channels:  # the search only widens, and then keeps its maps channels-last
        assert nhwc.is_contiguous(memory_format=torch.channels_last)


def test_cwi_has_gradient() -> None:
    a = torch.randn(2, 6, 2, 2, requires_grad=True)
    cwi(a, 10).sum().backward()
    assert a.grad is not None and (a.grad > 0).all()


@pytest.mark.parametrize(("channels", "out_channels"), [(3, 8), (4, 8), (8, 8), (1, 5), (10, 3)])
def test_cwi_matrix_is_the_footnote_formula_as_a_matrix(channels: int, out_channels: int) -> None:
    a = torch.randn(2, channels, 3, 3, dtype=torch.float64)
    matrix = cwi_matrix(channels, out_channels, a.device, a.dtype)
    assert matrix.shape == (out_channels, channels)
    torch.testing.assert_close(torch.einsum("oc,nchw->nohw", matrix, a), footnote_cwi(a, out_channels))
