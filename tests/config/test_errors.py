"""Pydantic's structured errors become one line naming the field, the value and what is allowed."""

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, PlainValidator, ValidationError

from tasray.config import ConfigError, Experiment
from tasray.config.errors import config_error
from tasray.config.experiment import validate_experiment

MINIMAL = {"name": "demo", "model": {"name": "cifar_resnet20"}}


def one_line(**sections) -> str:
    with pytest.raises(ConfigError) as caught:
        validate_experiment({**MINIMAL, **sections})
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_a_range_shows_both_bounds_as_the_schema_writes_them():
    assert one_line(search={"target_ratio": 0}) == "search.target_ratio = 0: must be in (0, 1]"
    assert one_line(search={"tolerance": 1}) == "search.tolerance = 1: must be in [0, 1)"
    assert one_line(seed=-1) == "seed = -1: must be in [0, 4294967295]"
    assert one_line(search={"width_ratios": [0.5, 1.5]}) == "search.width_ratios[1] = 1.5: must be in (0, 1]"
    assert one_line(resources={"num_workers": 0}) == "resources.num_workers = 0: must be >= 1"


def test_the_first_error_is_named_and_the_others_counted():
    line = one_line(teacher={"lr": -1}, search={"lambda_cost": float("inf")}, retrain={"epochs": 0})
    assert line == "teacher.lr = -1: must be > 0 (and 2 more)"


def test_a_baseline_entry_is_named_by_its_index_without_the_union_tag():
    assert one_line(baselines=[{"method": "fixed_ratio", "criterion": "l2"}]) == (
        "baselines[0].criterion = 'l2': must be one of 'l1' or 'random'"
    )
    assert one_line(baselines=[{"method": "random_search", "num_candidates": 0}]).startswith(
        "baselines[0].num_candidates = 0: must be >= 1"
    )
    assert one_line(baselines=[{"method": "fixed_ratio", "keep": 1}]) == (
        "unknown key 'keep' in baselines[0]; "
        "allowed: criterion, keep_ratio, method, target_ratio, transfer, width_multiple"
    )


class Entry(BaseModel):
    method: str
    ratio: Annotated[float, Field(gt=0, le=1)] = 0.5


class Registry(BaseModel):
    """Entries validated by a function (a registry lookup), as pydantic cannot see their schema."""

    entries: list[Annotated[Any, PlainValidator(Entry.model_validate)]] = []


def test_locations_inside_an_entry_validated_by_a_function_are_named_alike():
    with pytest.raises(ValidationError) as caught:
        Registry.model_validate({"entries": [{"method": "a"}, {"method": "b", "ratio": 2}]})
    assert str(config_error(caught.value, Registry)) == "entries[1].ratio = 2: must be <= 1"


def test_a_section_that_is_not_a_mapping_says_so():
    assert one_line(search=3) == "search = 3: must be a mapping of keys to values"
    assert Experiment.model_validate(MINIMAL).search.epochs == 600  # the minimal file is valid
