import subprocess
import sys

import pytest
import torch

from tasray.io.export import export_onnx, export_torchscript, load_pruned, save_pruned
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


def test_saved_network_reloads_and_torchscript_runs_without_tasray(tmp_path) -> None:
    net = PrunedResNet(pruned_spec()).eval()
    x = torch.randn(3, 3, 32, 32)
    expected = net(x)
    torch.testing.assert_close(load_pruned(save_pruned(net, tmp_path / "saved"))(x), expected)
    export_torchscript(net, tmp_path / "net.ts")
    torch.save(x, tmp_path / "x.pt")
    script = (
        "import sys, torch\n"
        "assert 'tasray' not in sys.modules\n"
        f"m = torch.jit.load({str(tmp_path / 'net.ts')!r})\n"
        f"torch.save(m(torch.load({str(tmp_path / 'x.pt')!r})), {str(tmp_path / 'y.pt')!r})\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path)
    torch.testing.assert_close(torch.load(tmp_path / "y.pt"), expected)


def test_onnx_export_computes_the_same_logits(tmp_path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator

    net = PrunedResNet(pruned_spec()).eval()
    path = export_onnx(net, tmp_path / "net.onnx")
    onnx.checker.check_model(onnx.load(str(path)))
    x = torch.randn(2, 3, 32, 32)
    (logits,) = ReferenceEvaluator(str(path)).run(None, {"images": x.numpy()})
    torch.testing.assert_close(torch.from_numpy(logits), net(x).detach(), rtol=1e-4, atol=1e-4)
