import pytest
import torch

from tasray.config import DataConfig
from tasray.data import load_data
from tasray.spec.arch import ArchSpec


@pytest.fixture(scope="session")
def digits():
    return load_data("digits")


@pytest.fixture(scope="session")
def digits_config() -> DataConfig:
    return DataConfig(name="digits", batch_size=64)


@pytest.fixture(scope="session")
def digits_spec() -> ArchSpec:
    return ArchSpec.full("cifar_resnet20", 10, 1, (8, 8))


@pytest.fixture
def cpu() -> torch.device:
    return torch.device("cpu")
