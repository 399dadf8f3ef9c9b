import pytest
import torch

from tasray.models import PrunedResNet, create_model, list_models
from tasray.registry import UnknownNameError
from tasray.spec.arch import ArchSpec


def test_registry_lists_the_paper_models_and_rejects_unknown_names() -> None:
    assert {"cifar_resnet20", "cifar_resnet164", "resnet18", "resnet50", "resnet101"} <= set(list_models())
    with pytest.raises(UnknownNameError, match="known: cifar_resnet110, .*resnet50"):
        create_model("resnet7", num_classes=10)


@pytest.mark.parametrize(
    ("model", "channels", "size"),
    [("cifar_resnet20", 1, 8), ("cifar_resnet20", 1, 28), ("resnet18", 1, 28), ("cifar_resnet164", 3, 32)],
)
def test_any_input_channels_and_size(model: str, channels: int, size: int) -> None:
    net = create_model(model, num_classes=7, in_channels=channels, input_size=(size, size))
    assert net(torch.randn(2, channels, size, size)).shape == (2, 7)


def pruned_spec() -> ArchSpec:
    full = ArchSpec.full("cifar_resnet20", 10, 3, (32, 32))
    widths = [max(1, (w * (3 + i % 5)) // 8) for i, w in enumerate(full.widths)]
    return ArchSpec("cifar_resnet20", widths, (2, 1, 3), 3, (32, 32), 10)


def test_unequal_residual_widths_get_a_projection() -> None:
    net = PrunedResNet(pruned_spec())
    first = net.stages[0][0]
    assert isinstance(first.shortcut, torch.nn.Sequential)  # stem 6 wide, block output 8 wide
    assert first.shortcut[0].in_channels == 6 and first.shortcut[0].out_channels == net.spec.widths[2]
