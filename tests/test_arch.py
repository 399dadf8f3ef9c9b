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
        ({"widths": ["a"] * 19}, "must be lists of integers"),
        ({"num_classes": 0}, "num_classes must be >= 1"),
    ],
)
def test_invalid_specs_are_rejected_with_a_clear_message(change: dict, message: str) -> None:
    fields = ArchSpec.full("cifar_resnet20", 10).to_dict() | change
    with pytest.raises(ArchSpecError, match=message):
        ArchSpec(**fields)


def test_from_json_rejects_missing_keys() -> None:
    with pytest.raises(ArchSpecError, match="needs exactly the keys"):
        ArchSpec.from_json('{"model": "cifar_resnet20"}')
