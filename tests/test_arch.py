import numpy as np
import pytest

from tasray.spec.arch import ArchSpec, ArchSpecError


def test_json_round_trip(tmp_path) -> None:
    spec = ArchSpec.full("cifar_resnet20", 10, 1, (8, 8))
    pruned = ArchSpec("cifar_resnet20", [w // 2 or 1 for w in spec.widths], (1, 2, 3), 1, (8, 8), 10)
    assert ArchSpec.from_json(pruned.to_json()) == pruned
    pruned.save(tmp_path / "arch.json")
    assert ArchSpec.load(tmp_path / "arch.json") == pruned


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"widths": [17] + [16] * 18}, r"widths\[0\] = 17; allowed 1..16"),
        ({"widths": [16] * 18}, "widths has 18 entries; cifar_resnet20 has 19 convs"),
        ({"depths": (3, 0, 3)}, r"depths\[1\] = 0; allowed 1..3"),
        ({"depths": (3, 3)}, "depths has 2 entries"),
        ({"model": "resnet7"}, "unknown model 'resnet7'; known: cifar_resnet110"),
        ({"widths": ["a"] * 19}, r"widths\[0\] = 'a'; must be an integer"),
        ({"widths": [16.7] * 19}, r"widths\[0\] = 16.7; must be an integer"),  # not cut to 16
        ({"widths": 16}, "widths = 16; must be a list of integers"),
        ({"num_classes": 0}, r"num_classes = 0; allowed 1..2147483647"),
        ({"num_classes": 1e300}, "num_classes = 1e[+]300; must be an integer"),
        ({"in_channels": True}, "in_channels = True; must be an integer"),
        ({"input_size": [32, 2**31]}, r"input_size = \[32, 2147483648\]; must be \[height, width\]"),
        ({"model": ["cifar_resnet20"]}, "model = .*; must be a model name"),
    ],
)
def test_invalid_specs_are_rejected_with_a_clear_message(change: dict, message: str) -> None:
    fields = ArchSpec.full("cifar_resnet20", 10).to_dict() | change
    with pytest.raises(ArchSpecError, match=message):
        ArchSpec(**fields)


def test_from_json_rejects_missing_keys() -> None:
    with pytest.raises(ArchSpecError, match="needs exactly the keys"):
        ArchSpec.from_json('{"model": "cifar_resnet20"}')


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Infinity", "Infinity is not a number JSON allows"),
        ("NaN", "NaN is not a number JSON allows"),
        ("9" * 400, "an integer of 400 digits; the largest allowed is 2147483647"),
        ("9" * 5000, "an integer of 5000 digits"),
        ("1e300", "num_classes = 1e[+]300; must be an integer"),
        ("true", "num_classes = True; must be an integer"),
    ],
)
def test_from_json_takes_integers_in_range_only(value: str, message: str) -> None:
    text = (
        ArchSpec.full("cifar_resnet20", 10).to_json().replace('"num_classes": 10', f'"num_classes": {value}')
    )
    with pytest.raises(ArchSpecError, match=message):
        ArchSpec.from_json(text)


def test_numpy_integers_are_integers() -> None:
    full = ArchSpec.full("cifar_resnet20", 10)
    spec = ArchSpec(full.model, [np.int64(w) for w in full.widths], full.depths, np.int32(3), (32, 32), 10)
    assert spec == full and all(type(w) is int for w in spec.widths) and type(spec.in_channels) is int
