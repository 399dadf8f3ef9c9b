"""Export a pruned network: state_dict + ArchSpec JSON (reloadable), TorchScript, ONNX."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import torch

from tasray.arch import ArchSpec
from tasray.errors import TasrayError
from tasray.models.resnet import PrunedResNet

WEIGHTS, ARCH = "model.pt", "arch.json"
FORMATS = ("state_dict", "torchscript", "onnx")


def save_pruned(model: PrunedResNet, directory: str | Path) -> Path:
    """Write `model.pt` (state_dict) and `arch.json` (its ArchSpec) into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.spec.save(directory / ARCH)
    torch.save(model.state_dict(), directory / WEIGHTS)
    return directory


def load_pruned(directory: str | Path, map_location: str | torch.device = "cpu") -> PrunedResNet:
    """Rebuild a network saved by `save_pruned`."""
    directory = Path(directory)
    if not (directory / ARCH).is_file() or not (directory / WEIGHTS).is_file():
        raise TasrayError(f"{directory} is not a saved pruned network: expected {ARCH} and {WEIGHTS}")
    model = PrunedResNet(ArchSpec.load(directory / ARCH))
    model.load_state_dict(torch.load(directory / WEIGHTS, map_location=map_location, weights_only=True))
    return model.eval()


def example_input(spec: ArchSpec, batch: int = 1) -> torch.Tensor:
    return torch.randn(batch, spec.in_channels, *spec.input_size)


def export_torchscript(model: PrunedResNet, path: str | Path) -> Path:
    """A TorchScript file that `torch.jit.load` runs without tasray installed."""
    model = model.eval()
    with warnings.catch_warnings():  # TorchScript is deprecated upstream but still the portable format
        warnings.simplefilter("ignore", FutureWarning)
        traced = torch.jit.trace(model, example_input(model.spec))
    traced.save(str(path))
    return Path(path)


def export_onnx(model: PrunedResNet, path: str | Path) -> Path:
    """An ONNX graph with a dynamic batch axis; needs the `onnx` package (`pip install tasray[onnx]`)."""
    if importlib.util.find_spec("onnx") is None:
        raise TasrayError("ONNX export needs the onnx package: pip install 'tasray[onnx]'")
    model = model.eval()
    with warnings.catch_warnings():  # the TorchScript-based exporter needs no onnxscript
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (example_input(model.spec),),
            str(path),
            dynamo=False,
            input_names=["images"],
            output_names=["logits"],
            dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
        )
    return Path(path)
