"""Every check that can run on the driver, run before Ray starts: bad input costs no cluster.

`check_inputs` covers the files an experiment reads (data, teacher checkpoint); `check_run`
adds what `tasray run` needs besides (the storage path, the cluster and its devices).
"""

from __future__ import annotations

from pathlib import Path

from tasray.config import ConfigError, Experiment, dataset_geometry
from tasray.config.sections import root_fix
from tasray.data.npz import check_npz
from tasray.data.torchvision_sets import check_cifar_root, check_imagenet_root
from tasray.errors import TasrayError
from tasray.preflight.checkpoint import read_state_dict
from tasray.preflight.cluster import ClusterTarget, check_local_resources, check_reachable, choose_cluster
from tasray.preflight.storage import check_storage

__all__ = ["ClusterTarget", "check_inputs", "check_run", "choose_cluster", "read_state_dict"]


def check_data(exp: Experiment) -> None:
    """The data set's files: npz headers and labels, the CIFAR files, ImageNet's class folders."""
    data = exp.data
    try:
        if data.name == "npz":
            check_npz(data.root)
        elif data.name.startswith("cifar") and not data.download:
            check_cifar_root(data.name, data.root)
        elif data.name == "imagenet":
            check_imagenet_root(data.root)
    except TasrayError as err:
        raise TasrayError(f"data.root: {err}") from None


def check_checkpoint(exp: Experiment) -> None:
    """The teacher checkpoint, if any, is a state_dict of this model at this data's geometry."""
    if exp.teacher.checkpoint is None:
        return
    from tasray.models.factory import build_network
    from tasray.spec.arch import ArchSpec

    in_channels, size, classes = dataset_geometry(exp.data)
    model = build_network(ArchSpec.full(exp.model.name, classes, in_channels, size))
    read_state_dict(exp.teacher.checkpoint, model, f"teacher.checkpoint ({exp.model.name})")


def check_files_exist(exp: Experiment) -> None:
    """The files and folders the experiment reads exist."""
    data, root = exp.data, Path(exp.data.root or "")
    if data.name == "npz" and not root.is_file():
        raise ConfigError(f"data.root = {data.root!r}: no such .npz file; {root_fix(data.name)}")
    needs_dir = data.name == "imagenet" or (data.name.startswith("cifar") and not data.download)
    if needs_dir and not root.is_dir():
        raise ConfigError(f"data.root = {data.root!r}: no such directory; {root_fix(data.name)}")
    checkpoint = exp.teacher.checkpoint
    if checkpoint and not Path(checkpoint).is_file():
        raise ConfigError(f"teacher.checkpoint = {checkpoint!r}: no such file")


def check_latency_table(exp: Experiment) -> None:
    """A given `latency.table` is a latency table of this model at this data's geometry."""
    if exp.latency.table is None:
        return
    from tasray.engine.latency import experiment_spec, read_table

    read_table(exp.latency.table).check_fits(experiment_spec(exp), "the experiment")


def check_inputs(exp: Experiment) -> None:
    """Data, checkpoint and latency table exist and hold what the experiment needs: what
    `validate` and `run` both check."""
    check_files_exist(exp)
    check_data(exp)
    check_checkpoint(exp)
    check_latency_table(exp)


def check_run(exp: Experiment, target: ClusterTarget) -> None:
    """What `run` checks besides the inputs: the storage path, and the cluster it would use."""
    check_storage(exp.storage_path, (exp.name,))
    check_reachable(target)
    check_local_resources(exp.resources, target)
