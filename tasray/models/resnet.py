"""The plain, pruned ResNet built from an ArchSpec: ordinary convs, no masks.

Residual additions with unequal widths: a block whose input and output widths differ gets a 1×1
projection shortcut (conv + BatchNorm), as in the original TAS code; so does every block that has
one in the unpruned network. `tas/cost.py` counts exactly these layers.
"""

from __future__ import annotations

from torch import Tensor, nn

from tasray.spec.arch import ArchSpec
from tasray.spec.family import FAMILIES, get_family


def conv_bn(cin: int, cout: int, kernel: int, stride: int) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    return nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout)


class ResidualBlock(nn.Module):
    """Basic (3×3, 3×3) or bottleneck (1×1, 3×3, 1×1) block with per-conv widths."""

    def __init__(
        self,
        in_width: int,
        widths: tuple[int, ...],
        kernels: tuple[int, ...],
        stride: int,
        stride_conv: int,
        projection: bool,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_width
        for position, (width, kernel) in enumerate(zip(widths, kernels, strict=True)):
            layers.extend(conv_bn(cin, width, kernel, stride if position == stride_conv else 1))
            if position < len(widths) - 1:
                layers.append(nn.ReLU(inplace=True))
            cin = width
        self.branch = nn.Sequential(*layers)
        self.shortcut = (
            nn.Sequential(*conv_bn(in_width, widths[-1], 1, stride)) if projection else nn.Identity()
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.branch(x) + self.shortcut(x))


class PrunedResNet(nn.Module):
    """A ResNet whose every conv width and stage depth come from `spec`."""

    def __init__(self, spec: ArchSpec) -> None:
        super().__init__()
        self.spec = spec
        family = get_family(spec.model)
        kernel, stride = (3, 1) if family.stem == "cifar" else (7, 2)
        stem: list[nn.Module] = [*conv_bn(spec.in_channels, spec.widths[0], kernel, stride), nn.ReLU(True)]
        if family.stem == "imagenet":
            stem.append(nn.MaxPool2d(3, 2, 1))
        self.stem = nn.Sequential(*stem)
        stages, width = [], spec.widths[0]
        for stage, depth in enumerate(spec.depths):
            blocks = []
            for block in range(depth):
                start = family.conv_index(stage, block, 0)
                widths = spec.widths[start : start + len(family.block_kernels)]
                projection = family.source_has_projection(stage, block) or width != widths[-1]
                stride = family.stage_strides[stage] if block == 0 else 1
                blocks.append(
                    ResidualBlock(width, widths, family.block_kernels, stride, family.stride_conv, projection)
                )
                width = widths[-1]
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, spec.num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stages(self.stem(x))
        return self.fc(self.pool(x).flatten(1))


def default_input_size(model: str) -> tuple[int, int]:
    return (32, 32) if get_family(model).stem == "cifar" else (224, 224)


def create_model(
    name: str, num_classes: int, in_channels: int = 3, input_size: tuple[int, int] | None = None
) -> PrunedResNet:
    """The unpruned network `name` (see `list_models()`), e.g. ``create_model("cifar_resnet56", 10)``."""
    size = input_size or default_input_size(name)
    return PrunedResNet(ArchSpec.full(name, num_classes, in_channels, size))


def list_models() -> list[str]:
    return FAMILIES.names()
