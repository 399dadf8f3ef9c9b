"""Worker hooks that only tests install: weight digests and node ids per rank, and one injected fault."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import ray
import ray.cloudpickle
import ray.train
import torch.distributed as dist
from torch import nn

from tasray.distributed.worker import WorkerHook
from tasray.stages.base import Stage, unwrap

# Ray's workers cannot import the tests package: send these classes by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


def weights_digest(stage: Stage) -> str:
    """sha256 of every module parameter of the stage: equal digests mean identical weights."""
    digest = hashlib.sha256()
    for name in sorted(stage.stateful):
        module = unwrap(stage.stateful[name])
        if isinstance(module, nn.Module):
            for tensor in module.parameters():
                digest.update(tensor.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


class WorkerProbe(WorkerHook):
    """Adds `workers`: rank, node, weights digest and the `env_keys` variables of every rank."""

    def __init__(self, env_keys: list[str]) -> None:
        self.env_keys = env_keys

    def metrics(self, epoch: int, stage: Stage) -> dict[str, Any]:
        mine = {
            "rank": ray.train.get_context().get_world_rank(),
            "node_id": ray.get_runtime_context().get_node_id(),
            "weights_sha256": weights_digest(stage),
            "env": {key: os.environ.get(key) for key in self.env_keys},
        }
        if not (dist.is_available() and dist.is_initialized()):
            return {"workers": [mine]}
        everyone: list[Any] = [None] * dist.get_world_size()
        dist.all_gather_object(everyone, mine)
        return {"workers": everyone}


class DieOnceAfter(WorkerHook):
    """Rank 0 dies once (`marker` remembers it) after `epoch`'s checkpoint (of the stage named
    `stage`, if given) is registered."""

    def __init__(self, epoch: int, marker: Path, stage: str | None = None) -> None:
        self.epoch, self.marker, self.stage = epoch, marker, stage

    def reported(self, epoch: int, stage: Stage) -> None:
        if epoch != self.epoch or self.stage not in (None, stage.name):
            return
        if ray.train.get_context().get_world_rank() != 0 or self.marker.exists():
            return
        self.marker.touch()
        ray.train.get_all_reported_checkpoints()  # wait until this epoch's checkpoint is registered
        os._exit(1)
