"""A teacher checkpoint, read and matched key by key and shape by shape against the model.

A torchvision ResNet state_dict (``torchvision.models.resnet50().state_dict()``, e.g. its ImageNet
weights) is recognised by its keys and renamed to tasray's (`tasray.models.torchvision_keys`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from tasray.errors import TasrayError
from tasray.models.torchvision_keys import from_torchvision, is_torchvision_resnet


def read_state_dict(path: str | Path, model: nn.Module, what: str) -> dict[str, torch.Tensor]:
    """The state_dict at `path`, checked against `model`'s keys and shapes.

    Args:
        path: a file written by ``torch.save(model.state_dict(), path)``, by tasray or torchvision.
        model: the network it must fit.
        what: how the file is named in errors, e.g. ``teacher.checkpoint (cifar_resnet20)``.

    Raises:
        TasrayError: an unreadable file, or a state_dict of another architecture; one line.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch.load of arbitrary bytes raises many kinds (pickle, zip, EOF)
        raise TasrayError(f"{what} {path}: not a readable PyTorch file ({first_line(err)})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise TasrayError(f"{what} {path}: holds a {type(state).__name__}, not a state_dict of tensors")
    if is_torchvision_resnet(state):
        state = from_torchvision(state)
    expected = model.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    if missing or unexpected:
        raise TasrayError(
            f"{what} {path}: a state_dict of another architecture ({len(missing)} keys missing, "
            f"e.g. {few(missing)}; {len(unexpected)} unexpected, e.g. {few(unexpected)})"
        )
    for key, tensor in expected.items():
        if state[key].shape != tensor.shape:
            raise TasrayError(
                f"{what} {path}: {key} has shape {tuple(state[key].shape)}; the model needs "
                f"{tuple(tensor.shape)} (another width, class count or channel count)"
            )
    return state


def first_line(err: BaseException) -> str:
    """The first non-empty line of an exception's message, or its type when it has none."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def few(keys: list[str], limit: int = 3) -> str:
    return ", ".join(keys[:limit]) + (", ..." if len(keys) > limit else "") if keys else "none"
