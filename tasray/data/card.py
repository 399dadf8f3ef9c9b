"""What a network trained on a data set needs to be used elsewhere: the input it takes (shape and
normalisation) and the names of its outputs. Saved beside every trained network, embedded in
every export.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from tasray.data.catalog import load_data
from tasray.data.errors import DataError
from tasray.data.splits import DataSplits
from tasray.data.torchvision_sets import IMAGENET_SIZE, check_imagenet_root
from tasray.data.transforms import IMAGENET_STATS


@dataclass(frozen=True)
class DataCard:
    """A data set as a trained network sees it.

    Args:
        data_set: the data set's name (``digits``, ``cifar10``, ``npz``...).
        input_shape: (C, H, W) of one image.
        mean: per-channel mean subtracted from pixels scaled to [0, 1].
        std: per-channel divisor applied after the mean: input = (pixel / 255 − mean) / std.
        class_names: one name per output logit (class indices as text when the data set has none).
    """

    data_set: str
    input_shape: tuple[int, int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    class_names: tuple[str, ...]

    @classmethod
    def of(cls, splits: DataSplits) -> DataCard:
        """The card of a loaded data set."""
        names = splits.class_names or tuple(str(index) for index in range(splits.num_classes))
        return cls(
            splits.name,
            (splits.in_channels, *splits.input_size),
            splits.normalization.mean,
            splits.normalization.std,
            names,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, fields: dict[str, Any]) -> DataCard:
        """A card from `to_dict`'s output; raises DataError naming a missing or malformed field."""
        try:
            card = cls(
                str(fields["data_set"]),
                tuple(int(v) for v in fields["input_shape"]),  # type: ignore[arg-type]
                tuple(float(v) for v in fields["mean"]),
                tuple(float(v) for v in fields["std"]),
                tuple(str(v) for v in fields["class_names"]),
            )
        except KeyError as err:
            raise DataError(f"not a data card: no {err.args[0]!r}") from None
        except (TypeError, ValueError) as err:
            raise DataError(f"not a data card: {err}") from None
        if len(card.input_shape) != 3 or not len(card.mean) == len(card.std) == card.input_shape[0]:
            raise DataError(
                f"not a data card: input_shape {card.input_shape} needs one mean and std per channel, "
                f"got {len(card.mean)} and {len(card.std)}"
            )
        return card


def data_card(name: str, root: str | None = None, image_size: int | None = None) -> DataCard:
    """The card of data set `name` at `root`: ImageNet's from its class folders alone (no image
    is read), the in-memory sets' by loading them (their statistics come from the images).

    Raises:
        DataError: the data set cannot be read (one line, as `load_data` says).
    """
    if name == "imagenet":
        size = image_size or IMAGENET_SIZE
        names = tuple(check_imagenet_root(root))
        return DataCard(name, (3, size, size), IMAGENET_STATS.mean, IMAGENET_STATS.std, names)
    return DataCard.of(load_data(name, root, augment=False, image_size=image_size))
