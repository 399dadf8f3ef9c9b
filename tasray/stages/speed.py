"""Device speed settings of the fixed-shape stages (teacher, retraining, random-search candidates).

All of them default to off (except cuDNN autotuning, which only exists on CUDA), so the CPU path
computes exactly what it computed without them. The search stage does not use them: its conv
shapes change every step, so autotuning and compilation would start over every step.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

Amp = Literal["none", "bf16"]


@dataclass(frozen=True)
class SpeedSettings:
    """How a fixed network runs on its device.

    Args:
        amp: ``bf16`` runs forward passes under ``torch.autocast`` in bfloat16 (convolutions and
            the classifier; losses and BatchNorm stay float32). bf16 has float32's range, so no
            loss scaling is needed. ``none``: float32.
        channels_last: NHWC memory format for the model and its inputs (faster convolutions on
            tensor cores; CPU oneDNN also accepts it).
        cudnn_benchmark: let cuDNN time its algorithms for each conv shape once and keep the
            fastest (CUDA only; the shapes of these stages never change).
        compile: run the forward pass through ``torch.compile`` (the first steps pay for
            compilation; the state dict is the uncompiled module's).
    """

    amp: Amp = "none"
    channels_last: bool = False
    cudnn_benchmark: bool = True
    compile: bool = False

    def configure(self, device: torch.device) -> None:
        """Process-wide switches for `device` (cuDNN autotuning)."""
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = self.cudnn_benchmark

    def autocast(self, device: torch.device) -> AbstractContextManager:
        """The mixed-precision context of a forward pass (a no-op with amp `none`)."""
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.amp == "bf16")

    def model(self, module: nn.Module) -> nn.Module:
        """`module` in the chosen memory format (in place, as `Module.to` is)."""
        return module.to(memory_format=torch.channels_last) if self.channels_last else module

    def forward(self, module: nn.Module) -> nn.Module:
        """What to call for a forward pass: `module`, or its compiled version."""
        return torch.compile(module) if self.compile else module

    def input(self, images: torch.Tensor, device: torch.device) -> torch.Tensor:
        """A batch on `device` in the chosen memory format; asynchronous from pinned memory."""
        images = images.to(device, non_blocking=True)
        return images.contiguous(memory_format=torch.channels_last) if self.channels_last else images
