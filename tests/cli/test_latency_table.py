"""`tasray latency-table`: a model's table written as JSON, here or in a Ray task on a node."""

import pytest

from tasray.cli import main
from tasray.costs.latency_table import LatencyTable
from tasray.costs.latency_units import network_units
from tasray.spec.arch import ArchSpec

SMALL = ["cifar_resnet20", "--input-size", "4", "--in-channels", "1", "--rounds", "1"]


def check_table(path, capsys) -> LatencyTable:
    table = LatencyTable.load(path)
    full = ArchSpec.full("cifar_resnet20", 10, 1, (4, 4))
    assert table.full_spec == full and table.timer == "cpu time" and table.threads == 1
    assert all(unit in table.seconds for unit in network_units(full))
    out = " ".join(capsys.readouterr().out.split())
    assert f"latency table: {table.describe()}" in out and "additivity error" in out
    return table


def test_the_table_is_written_and_an_earlier_one_replaced(tmp_path, capsys) -> None:
    out = tmp_path / "lut.json"
    assert main(["latency-table", *SMALL, "--out", str(out)]) == 0
    first = check_table(out, capsys)
    assert main(["latency-table", *SMALL, "--batch", "2", "--out", str(out)]) == 0
    assert check_table(out, capsys).batch == 2 and first.batch == 1
    assert [p.name for p in tmp_path.iterdir()] == ["lut.json"]  # no temporary file left


@pytest.mark.ray
def test_the_table_can_be_measured_in_a_ray_task(tmp_path, capsys) -> None:
    out = tmp_path / "lut.json"
    assert main(["latency-table", *SMALL, "--out", str(out), "--address", "local"]) == 0
    check_table(out, capsys)
