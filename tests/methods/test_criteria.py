"""Each criterion's scores, by hand, on one small conv of a ResNet-20: the first conv of the first
block, whose dependency group is that conv's filters, its BatchNorm and the input slices of the
block's second conv. Torch-Pruning averages a criterion over the group's layers and divides by
the mean (LAMP: its own normaliser)."""

import pytest
import torch
import torch.nn.functional as F
import torch_pruning as tp
from networks import randomised

from tasray.methods.criteria import CRITERIA, accumulate_gradients
from tasray.models.factory import build_network
from tasray.spec.arch import ArchSpec


@pytest.fixture
def net():
    return randomised(build_network(ArchSpec.full("cifar_resnet20", 10, 1, (8, 8))))


def scores(net, name: str) -> torch.Tensor:
    conv = net.stages[0][0].branch[0]
    graph = tp.DependencyGraph().build_dependency(net, example_inputs=torch.zeros(1, 1, 8, 8))
    group = graph.get_pruning_group(conv, tp.prune_conv_out_channels, list(range(conv.out_channels)))
    return CRITERIA[name].importance()(group)


def layers(net) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The filters of the conv, its BatchNorm scales, and the next conv's weights per input channel."""
    branch = net.stages[0][0].branch
    return branch[0].weight.detach(), branch[1].weight.detach(), branch[3].weight.detach().transpose(0, 1)


def by_mean(values: torch.Tensor) -> torch.Tensor:
    return values / values.mean()


@pytest.mark.parametrize("name, p", [("l1", 1), ("l2", 2)])
def test_magnitude_is_the_groups_mean_filter_norm(net, name: str, p: int) -> None:
    filters, gamma, inputs = layers(net)
    norm = [filters.abs().pow(p).sum((1, 2, 3)), gamma.abs().pow(p), inputs.abs().pow(p).sum((1, 2, 3))]
    torch.testing.assert_close(scores(net, name), by_mean(sum(norm) / 3))


def test_bn_scale_is_the_batchnorm_scale(net) -> None:
    _, gamma, _ = layers(net)
    torch.testing.assert_close(scores(net, "bn_scale"), by_mean(gamma.abs()))


def test_lamp_divides_each_squared_norm_by_the_sum_of_those_not_smaller(net) -> None:
    filters, gamma, inputs = layers(net)
    l2 = (filters.pow(2).sum((1, 2, 3)) + gamma.pow(2) + inputs.pow(2).sum((1, 2, 3))) / 3
    expected = torch.stack([s / l2[l2 >= s].sum() for s in l2])
    torch.testing.assert_close(scores(net, "lamp"), expected)


def test_fpgm_is_the_summed_distance_to_the_other_filters(net) -> None:
    filters, _, inputs = layers(net)

    def distances(w: torch.Tensor) -> torch.Tensor:
        flat = w.pow(2).flatten(1)  # Torch-Pruning compares |w|^p, p = 2
        return torch.stack([(flat - row).norm(dim=1).sum() for row in flat])

    torch.testing.assert_close(scores(net, "fpgm"), by_mean((distances(filters) + distances(inputs)) / 2))


def test_taylor_is_the_summed_weight_times_gradient(net) -> None:
    images, targets = torch.randn(16, 1, 8, 8), torch.randint(0, 10, (16,))
    F.cross_entropy(net(images), targets).backward()
    branch = net.stages[0][0].branch
    filters = (branch[0].weight * branch[0].weight.grad).abs().sum((1, 2, 3))
    inputs = (branch[3].weight * branch[3].weight.grad).abs().sum((0, 2, 3))
    # Torch-Pruning's Taylor leaves the BatchNorm out of the group's mean
    torch.testing.assert_close(scores(net, "taylor"), by_mean((filters + inputs) / 2).detach())


def test_random_scores_one_per_channel(net) -> None:
    torch.manual_seed(1)
    first = scores(net, "random")
    torch.manual_seed(1)
    assert first.shape == (16,) and torch.equal(first, scores(net, "random"))


def test_gradients_are_summed_over_the_batches(net) -> None:
    data = torch.utils.data.TensorDataset(torch.randn(8, 1, 8, 8), torch.randint(0, 10, (8,)))
    accumulate_gradients(net, data, batches=2, batch_size=4, seed=0, device=torch.device("cpu"))
    twice = net.fc.weight.grad.clone()
    net.zero_grad()
    for images, targets in torch.utils.data.DataLoader(data, batch_size=8):
        (
            F.cross_entropy(net(images[:4]), targets[:4]) + F.cross_entropy(net(images[4:]), targets[4:])
        ).backward()
    torch.testing.assert_close(twice, net.fc.weight.grad)
    assert not net.training
