"""What a stage needs from torch.distributed, written so that one process (no group) also works."""

from __future__ import annotations

import random

import numpy as np
import torch
import torch.distributed as dist
from torch import nn


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank_and_world() -> tuple[int, int]:
    return (dist.get_rank(), dist.get_world_size()) if distributed() else (0, 1)


def is_main_process() -> bool:
    return rank_and_world()[0] == 0


def scaled_lr(lr: float) -> float:
    """The learning rate for this run's global batch: linear scaling (Goyal et al. 2017).

    A configured rate is the rate for one worker's batch (`data.batch_size`); with N data-parallel
    workers the global batch is N times larger, and so is the rate. One worker: unchanged.
    """
    return lr * rank_and_world()[1]


def all_reduce_sum(values: torch.Tensor) -> torch.Tensor:
    if distributed():
        dist.all_reduce(values)
    return values


def average_gradients(parameters: list[nn.Parameter]) -> None:
    """Average gradients over ranks in one flat all-reduce (the search's manual DDP)."""
    if not distributed():
        return
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.flatten() for g in grads])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def broadcast_state(module: nn.Module) -> None:
    """Make every rank hold rank 0's parameters and buffers (BatchNorm statistics are per rank)."""
    if distributed():
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor.data, src=0)


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
