"""`tasray export --check`: load an export back as its users would, compare its outputs with the
PyTorch network's on one batch, and time both with the interleaved latency protocol.
"""

from __future__ import annotations

import importlib.util
import statistics
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from tasray.costs.timing import interleaved_times
from tasray.errors import TasrayError
from tasray.io.export import load_pruned
from tasray.models.resnet import PrunedResNet

ATOL, RTOL = 1e-4, 1e-5
"""A logit of the export may differ from PyTorch's by ATOL + RTOL × the largest |logit|: another
runtime's float32 kernels add up in another order. Measured on batch 8 with random BatchNorm
statistics: ONNX 3.7e-4 at logits up to 1337 (ResNet-56), 1.9e-5 at 48 (ResNet-50); .pt2 and
TorchScript 0."""
BATCH, ROUNDS, WARMUP = 8, 20, 3
LOADERS = {
    "pt2": "torch.export.load",
    "onnx": "onnxruntime",
    "torchscript": "torch.jit.load",
    "state_dict": "tasray.io.export.load_pruned",
}
"""What `load_export` loads each format with: the runtime a user of the file would have."""

Forward = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class CheckResult:
    """What `check_export` found: the largest logit difference, the difference allowed, and each
    side's latencies (s)."""

    max_difference: float
    tolerance: float
    reference_times: list[float]
    export_times: list[float]

    @property
    def matches(self) -> bool:
        return self.max_difference <= self.tolerance


def load_export(path: Path, fmt: str) -> Forward:
    """The exported network at `path`, loaded with the runtime its users have (`LOADERS`)."""
    if fmt == "pt2":
        return torch.export.load(path).module()
    if fmt == "torchscript":
        with warnings.catch_warnings():  # deprecated upstream; still the user's choice of format
            warnings.simplefilter("ignore", FutureWarning)
            return torch.jit.load(str(path))
    if fmt == "state_dict":
        return load_pruned(path)
    if importlib.util.find_spec("onnxruntime") is None:
        raise TasrayError("--check of an ONNX file needs onnxruntime: pip install 'tasray[onnx]'")
    import onnxruntime

    # As many threads as PyTorch, which run only when called: onnxruntime's default threads keep
    # spinning between calls, which would slow the PyTorch runs interleaved with them.
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda x: torch.from_numpy(session.run(None, {"images": x.numpy()})[0])


def check_export(model: PrunedResNet, path: Path, fmt: str) -> CheckResult:
    """Compare the export at `path` with `model` on a seeded batch of `BATCH`, then time both."""
    exported = load_export(path, fmt)
    spec = model.spec
    x = torch.randn(BATCH, spec.in_channels, *spec.input_size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model.eval()(x)
        difference = (exported(x) - expected).abs().max().item()
    tolerance = ATOL + RTOL * expected.abs().max().item()
    reference, other = time_forwards([model, exported], x)
    return CheckResult(difference, tolerance, reference, other)


def time_forwards(forwards: list[Forward], x: torch.Tensor) -> list[list[float]]:
    """Latencies of each forward on `x` with the project's protocol (`tasray.costs.timing`): the one
    place this check times anything, to re-point when the protocol moves."""
    runs = [lambda forward=forward: forward(x) for forward in forwards]
    return interleaved_times(runs, torch.device("cpu"), rounds=ROUNDS, warmup=WARMUP)


def describe_times(times: list[float]) -> str:
    """Median and interquartile range in milliseconds, e.g. ``3.21 ms (IQR 3.10–3.40)``."""
    low, _, high = statistics.quantiles(times, n=4)
    return f"{statistics.median(times) * 1e3:.2f} ms (IQR {low * 1e3:.2f}–{high * 1e3:.2f})"
