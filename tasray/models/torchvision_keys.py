"""torchvision's ResNet state_dicts (resnet18/34/50/101) under tasray's key names.

Both build the same network: a 7×7 stride-2 stem with max-pool, the stride on a basic block's
first conv and on a bottleneck's 3×3 (torchvision's "v1.5"), 1×1 projection shortcuts where
torchvision has ``downsample``, then average pooling and the classifier. Only the names differ:
``layer2.0.conv1`` is ``stages.1.0.branch.0``, ``layer2.0.bn1`` is ``stages.1.0.branch.1`` (a
block's branch is conv, BatchNorm, ReLU, ... in `tasray.models.resnet`), ``downsample`` is
``shortcut``, ``conv1``/``bn1`` of the network are the stem's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from torch import Tensor

MARKERS = ("conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "fc.weight")
"""Keys every torchvision ResNet state_dict has and tasray's never does."""
_BLOCK = re.compile(r"layer(\d+)\.(\d+)\.(conv|bn)(\d)\.(.+)")
_SHORTCUT = re.compile(r"layer(\d+)\.(\d+)\.downsample\.([01])\.(.+)")
_STEM = {"conv1": "stem.0", "bn1": "stem.1"}
_BRANCH_STEP = 3  # conv, BatchNorm, ReLU per position of a block's branch


def is_torchvision_resnet(state: Mapping[str, Tensor]) -> bool:
    """Whether `state` has torchvision's ResNet key names."""
    return all(key in state for key in MARKERS)


def tasray_key(key: str) -> str:
    """The tasray name of a torchvision ResNet key (an unknown key is returned unchanged)."""
    if match := _BLOCK.fullmatch(key):
        layer, block, kind, number, rest = match.groups()
        position = _BRANCH_STEP * (int(number) - 1) + (kind == "bn")
        return f"stages.{int(layer) - 1}.{block}.branch.{position}.{rest}"
    if match := _SHORTCUT.fullmatch(key):
        layer, block, index, rest = match.groups()
        return f"stages.{int(layer) - 1}.{block}.shortcut.{index}.{rest}"
    module, _, rest = key.partition(".")
    return f"{_STEM[module]}.{rest}" if module in _STEM else key


def from_torchvision(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """`state` with every key renamed to tasray's."""
    return {tasray_key(key): value for key, value in state.items()}
