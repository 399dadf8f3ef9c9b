"""Model registry: ResNet families by name, built as plain (prunable) networks."""

from tasray.models.resnet import PrunedResNet, create_model, list_models
from tasray.spec.family import FAMILIES, ResNetFamily, get_family

__all__ = ["FAMILIES", "PrunedResNet", "ResNetFamily", "create_model", "get_family", "list_models"]
