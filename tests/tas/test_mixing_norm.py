import pytest
import torch
import torch.nn.functional as F

from tasray.tas.mixing_norm import mixing_batch_norm


def channels_last(*shape: int, grad: bool = True) -> torch.Tensor:
    x = torch.randn(*shape, dtype=torch.float64).contiguous(memory_format=torch.channels_last)
    return x.requires_grad_(grad)


def plain(y, mixing, shift, residual=None):
    """A·BatchNorm(y) + b with PyTorch's own batch normalisation, then the residual in front."""
    z = (
        torch.einsum("oc,nchw->nohw", mixing, F.batch_norm(y, None, None, training=True))
        + shift[:, None, None]
    )
    if residual is not None:
        z = z + F.pad(residual, (0, 0, 0, 0, 0, z.shape[1] - residual.shape[1]))
    return z


@pytest.mark.parametrize(("out_channels", "residual"), [(5, None), (7, 7), (7, 4)])
def test_output_and_statistics_follow_batch_norm(out_channels: int, residual: int | None) -> None:
    y, mixing, shift = (
        channels_last(3, 5, 4, 2),
        torch.randn(out_channels, 5, dtype=torch.float64),
        torch.randn(out_channels, dtype=torch.float64),
    )
    res = None if residual is None else channels_last(3, residual, 4, 2)
    z, mean, var = mixing_batch_norm(y, mixing, shift, 1e-5, res)
    torch.testing.assert_close(z, plain(y, mixing, shift, res))
    torch.testing.assert_close(mean, y.mean((0, 2, 3)))
    torch.testing.assert_close(var, y.var((0, 2, 3), correction=0))
    assert z.is_contiguous(memory_format=torch.channels_last) and z._base is None


@pytest.mark.parametrize("residual", [None, 6, 3])
def test_gradients_match_finite_differences(residual: int | None) -> None:
    y, mixing, shift = (
        channels_last(4, 3, 2, 3),
        torch.randn(6, 3, dtype=torch.float64),
        torch.randn(6, dtype=torch.float64),
    )
    mixing.requires_grad_(), shift.requires_grad_()
    inputs = (y, mixing, shift) + (() if residual is None else (channels_last(4, residual, 2, 3),))
    assert torch.autograd.gradcheck(lambda *a: mixing_batch_norm(*a[:3], 1e-5, *a[3:])[0], inputs)


def test_a_map_without_gradient_still_gives_the_matrix_its_gradient() -> None:
    y, mixing = (
        channels_last(4, 3, 2, 2, grad=False),
        torch.randn(3, 3, dtype=torch.float64, requires_grad=True),
    )
    z, _, _ = mixing_batch_norm(y, mixing, torch.zeros(3, dtype=torch.float64), 1e-5)
    z.square().sum().backward()
    expected = torch.autograd.grad(
        plain(y, mixing, torch.zeros(3, dtype=torch.float64)).square().sum(), mixing
    )[0]
    torch.testing.assert_close(mixing.grad, expected)


def test_one_value_per_channel_is_refused_as_batch_norm_does() -> None:
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        mixing_batch_norm(
            channels_last(1, 3, 1, 1),
            torch.eye(3, dtype=torch.float64),
            torch.zeros(3, dtype=torch.float64),
            1e-5,
        )
