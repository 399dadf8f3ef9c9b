"""A torchvision ResNet state_dict is a tasray teacher checkpoint: same network, other names."""

import pytest
import torch
import torchvision
from networks import randomised

from tasray.errors import TasrayError
from tasray.models import create_model
from tasray.models.torchvision_keys import is_torchvision_resnet, tasray_key
from tasray.preflight.checkpoint import read_state_dict


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_torchvision_weights_load_with_equal_logits(name, tmp_path) -> None:
    reference = randomised(getattr(torchvision.models, name)())  # random BatchNorm statistics too
    path = tmp_path / f"{name}.pt"
    torch.save(reference.state_dict(), path)
    model = create_model(name, 1000, 3, (224, 224))
    model.load_state_dict(read_state_dict(path, model, "teacher.checkpoint"))
    images = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(images), reference(images), atol=1e-5, rtol=0)


def test_names_map_block_by_block() -> None:
    assert tasray_key("layer3.1.bn2.running_var") == "stages.2.1.branch.4.running_var"
    assert tasray_key("layer1.0.conv3.weight") == "stages.0.0.branch.6.weight"
    assert tasray_key("layer2.0.downsample.1.bias") == "stages.1.0.shortcut.1.bias"
    assert tasray_key("bn1.num_batches_tracked") == "stem.1.num_batches_tracked"
    assert tasray_key("fc.bias") == "fc.bias"
    assert not is_torchvision_resnet(create_model("resnet18", 10).state_dict())


def test_a_torchvision_checkpoint_of_other_classes_is_one_line(tmp_path) -> None:
    path = tmp_path / "resnet18.pt"
    torch.save(torchvision.models.resnet18().state_dict(), path)
    model = create_model("resnet18", 10)
    with pytest.raises(TasrayError, match=r"fc.weight has shape \(1000, 512\); the model needs \(10, 512\)"):
        read_state_dict(path, model, "teacher.checkpoint (resnet18)")
