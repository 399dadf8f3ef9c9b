"""ArchSpec: the one artifact every pruning method produces and `retrain` consumes."""

from __future__ import annotations

import json
import operator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from tasray.errors import TasrayError
from tasray.spec.family import ResNetFamily, get_family


class ArchSpecError(TasrayError, ValueError):
    """An ArchSpec that does not fit its source model."""


MAX_SIZE = 2**31 - 1
"""The largest channel, class or pixel count an ArchSpec takes: what an int32 holds."""


@dataclass(frozen=True)
class ArchSpec:
    """A pruned network of a registered model family, as data: every method produces one, and
    retraining, costs and export consume it.

    Args:
        model: name of the source (unpruned) model, e.g. ``cifar_resnet56``.
        widths: output channels of every conv of the source network, in conv-index order
            (stem, then each block's convs, stage by stage). Blocks beyond a stage's depth are
            kept in the list so that every spec of a model has the same length; they are unused.
        depths: number of blocks kept in each stage (the first ones).
        in_channels: image channels.
        input_size: image height and width.
        num_classes: classifier outputs.
    """

    model: str
    widths: tuple[int, ...]
    depths: tuple[int, ...]
    in_channels: int
    input_size: tuple[int, int]
    num_classes: int

    def __post_init__(self) -> None:
        if not isinstance(self.model, str):
            raise ArchSpecError(f"model = {shown(self.model)}; must be a model name, e.g. cifar_resnet56")
        for name in ("widths", "depths", "input_size"):
            values = getattr(self, name)
            if not isinstance(values, list | tuple):
                raise ArchSpecError(f"{name} = {shown(values)}; must be a list of integers")
            object.__setattr__(self, name, tuple(integer(v, f"{name}[{i}]") for i, v in enumerate(values)))
        for name in ("in_channels", "num_classes"):
            object.__setattr__(self, name, integer(getattr(self, name), name))
        self.validate()

    @property
    def family(self) -> ResNetFamily:
        return get_family(self.model)

    @classmethod
    def full(
        cls, model: str, num_classes: int, in_channels: int = 3, input_size: tuple[int, int] = (32, 32)
    ) -> ArchSpec:
        """The unpruned network of `model`."""
        family = get_family(model)
        return cls(model, family.max_widths(), family.stage_depths, in_channels, input_size, num_classes)

    def unpruned(self) -> ArchSpec:
        """The unpruned network of this spec's model, at the same input geometry."""
        return ArchSpec.full(self.model, self.num_classes, self.in_channels, self.input_size)

    def validate(self) -> None:
        try:
            family = get_family(self.model)
        except KeyError as err:
            raise ArchSpecError(str(err)) from None
        max_widths, max_depths = family.max_widths(), family.stage_depths
        if len(self.widths) != len(max_widths):
            raise ArchSpecError(
                f"widths has {len(self.widths)} entries; {self.model} has {len(max_widths)} convs"
            )
        for index, (width, limit) in enumerate(zip(self.widths, max_widths, strict=True)):
            if not 1 <= width <= limit:
                raise ArchSpecError(f"widths[{index}] = {width}; allowed 1..{limit} for {self.model}")
        if len(self.depths) != len(max_depths):
            raise ArchSpecError(
                f"depths has {len(self.depths)} entries; {self.model} has {len(max_depths)} stages"
            )
        for stage, (depth, limit) in enumerate(zip(self.depths, max_depths, strict=True)):
            if not 1 <= depth <= limit:
                raise ArchSpecError(f"depths[{stage}] = {depth}; allowed 1..{limit} for {self.model}")
        for name in ("in_channels", "num_classes"):
            if not 1 <= getattr(self, name) <= MAX_SIZE:
                raise ArchSpecError(f"{name} = {shown(getattr(self, name))}; allowed 1..{MAX_SIZE}")
        if len(self.input_size) != 2 or not all(1 <= size <= MAX_SIZE for size in self.input_size):
            raise ArchSpecError(
                f"input_size = {shown(list(self.input_size))}; must be [height, width], each 1..{MAX_SIZE}"
            )

    def with_input(self, in_channels: int, input_size: tuple[int, int], num_classes: int) -> ArchSpec:
        return replace(self, in_channels=in_channels, input_size=input_size, num_classes=num_classes)

    def to_dict(self) -> dict:
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict) -> ArchSpec:
        expected = {"model", "widths", "depths", "in_channels", "input_size", "num_classes"}
        if not isinstance(data, dict) or set(data) != expected:
            got = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise ArchSpecError(f"an ArchSpec needs exactly the keys {sorted(expected)}; got {got}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> ArchSpec:
        try:
            data = json.loads(text, parse_constant=refuse_constant, parse_int=bounded_int)
        except ValueError as err:  # JSONDecodeError is one
            raise ArchSpecError(f"not valid JSON: {err}") from None
        return cls.from_dict(data)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> ArchSpec:
        return cls.from_json(Path(path).read_text())


def integer(value: Any, name: str) -> int:
    """`value` as an int: Python's and numpy's integers pass, bools, floats and text do not."""
    if isinstance(value, bool):
        raise ArchSpecError(f"{name} = {value!r}; must be an integer")
    try:
        return operator.index(value)
    except TypeError:
        raise ArchSpecError(f"{name} = {shown(value)}; must be an integer") from None


def shown(value: Any, limit: int = 40) -> str:
    """`value` for an error line: its repr, cut short (a 400-digit number would fill the screen)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def bounded_int(digits: str) -> int:
    """`json.loads` hook for integers: one of hundreds of digits is refused before it is converted."""
    if len(digits.lstrip("-")) > len(str(MAX_SIZE)):
        raise ValueError(f"an integer of {len(digits.lstrip('-'))} digits; the largest allowed is {MAX_SIZE}")
    return int(digits)


def refuse_constant(name: str) -> Any:
    """`json.loads` hook for Infinity, -Infinity and NaN, which strict JSON does not have."""
    raise ValueError(f"{name} is not a number JSON allows")
