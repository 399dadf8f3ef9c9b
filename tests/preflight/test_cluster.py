"""Which cluster `tasray run` picks: Ray's rule, with `--address local` always a fresh instance."""

from __future__ import annotations

import pytest

from tasray.config import ResourcesConfig
from tasray.errors import TasrayError
from tasray.preflight.cluster import check_resources, check_worker_fits_a_node, choose_cluster, host_port


@pytest.fixture
def ray_tmp(tmp_path, monkeypatch):
    """An empty Ray temp folder and no RAY_ADDRESS: nothing recorded yet."""
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    (tmp_path / "ray").mkdir()
    return tmp_path / "ray"


def test_the_rule_in_order(ray_tmp, monkeypatch) -> None:
    assert choose_cluster(None).is_local
    (ray_tmp / "ray_current_cluster").write_text("10.0.0.5:6379\n")
    recorded = choose_cluster(None)
    assert recorded.address == "10.0.0.5:6379" and "ray start" in recorded.source
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.9:6379")
    assert choose_cluster(None).address == "10.0.0.9:6379"  # the variable beats the record
    assert choose_cluster("10.0.0.1:1234").address == "10.0.0.1:1234"  # the flag beats both
    assert choose_cluster("local").is_local  # and local always means a fresh instance
    monkeypatch.setenv("RAY_ADDRESS", "local")
    assert choose_cluster(None).is_local


def test_auto_needs_a_cluster(ray_tmp) -> None:
    with pytest.raises(TasrayError, match="--address auto: no Ray cluster found"):
        choose_cluster("auto")
    (ray_tmp / "ray_current_cluster").write_text("10.0.0.5:6379")
    assert choose_cluster("auto").address == "10.0.0.5:6379"


@pytest.mark.parametrize("address", ["nohost", "host:", ":6379", "h:99999", "h:port"])
def test_malformed_addresses(address: str) -> None:
    with pytest.raises(TasrayError, match="expected host:port"):
        host_port(address)


def test_host_port_of_ray_client_and_ipv6() -> None:
    assert host_port("ray://10.0.0.1:10001") == ("10.0.0.1", 10001)
    assert host_port("[::1]:6379") == ("::1", 6379)


def test_resources_must_fit() -> None:
    gpu = ResourcesConfig(num_workers=2, use_gpu=True)
    check_resources(gpu, cpus=4, gpus=2, where="x")
    with pytest.raises(TasrayError, match="need 2 GPU"):
        check_resources(gpu, cpus=4, gpus=1, where="x")
    with pytest.raises(TasrayError, match="need 3 CPU"):
        check_resources(ResourcesConfig(num_workers=3), cpus=2, gpus=0, where="x")


def test_one_worker_must_fit_on_one_node() -> None:
    two_small_nodes = [{"CPU": 1.0}, {"CPU": 1.0}]
    check_worker_fits_a_node(ResourcesConfig(num_workers=2), two_small_nodes)
    with pytest.raises(TasrayError, match="one worker needs 2 CPUs on one node, but the largest node has 1"):
        check_worker_fits_a_node(ResourcesConfig(cpus_per_worker=2), two_small_nodes)
    with pytest.raises(TasrayError, match=r"resources.gpus_per_worker = 1: .* the largest node has 0"):
        check_worker_fits_a_node(ResourcesConfig(use_gpu=True), [{"CPU": 8.0}, {"CPU": 4.0, "GPU": 0.0}])
    check_worker_fits_a_node(ResourcesConfig(use_gpu=True), [{"CPU": 8.0}, {"CPU": 4.0, "GPU": 1.0}])
