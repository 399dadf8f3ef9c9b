import pytest

from tasray.tas.cost_loss import CostTarget, in_band
from tasray.tas.selection import choose_epoch

BAND = CostTarget(ratio=0.5, tolerance=0.05)


def epochs(*pairs: tuple[float, float]) -> list[dict[str, float]]:
    return [{"cost_ratio": ratio, "val_top1": top1} for ratio, top1 in pairs]


def test_the_best_validating_in_band_epoch_wins_over_better_out_of_band_ones() -> None:
    history = epochs((0.80, 90.0), (0.52, 70.0), (0.49, 75.0), (0.30, 95.0), (0.51, 60.0))
    choice = choose_epoch(history, BAND)
    assert (choice.epoch, choice.in_band) == (2, True)


def test_ties_go_to_the_later_epoch() -> None:
    history = epochs((0.50, 80.0), (0.51, 80.0), (0.70, 99.0))
    assert choose_epoch(history, BAND).epoch == 1


def test_without_an_in_band_epoch_the_closest_to_r_is_taken_and_flagged() -> None:
    history = epochs((0.80, 90.0), (0.43, 50.0), (0.54, 70.0), (0.30, 95.0))
    choice = choose_epoch(history, BAND)
    assert (choice.epoch, choice.in_band) == (2, False)
    history = epochs((0.25, 50.0), (0.75, 60.0))  # equally far: the better validation
    assert choose_epoch(history, BAND).epoch == 1


def test_the_band_is_relative_to_r() -> None:
    assert in_band(0.475, 0.5, 0.05) and in_band(0.525, 0.5, 0.05)
    assert not in_band(0.474, 0.5, 0.05) and not in_band(0.526, 0.5, 0.05)
    assert in_band(0.2, 0.2, 0.0) and not in_band(0.21, 0.2, 0.0)


def test_an_empty_history_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one epoch"):
        choose_epoch([], BAND)
