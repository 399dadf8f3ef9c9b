"""DataLoaders that shard across ranks under torch.distributed and replay exactly by seed.

Per epoch, call `set_loader_epoch(loader, epoch)` before iterating. It reseeds the shuffling
(a DistributedSampler's epoch, or the loader's generator) so that every epoch differs yet an
epoch's batches depend only on (seed, epoch): a resumed run sees the batches the uninterrupted
run would have seen. Worker processes take their torch seeds from the loader's generator, so
augmentation in workers replays too; with num_workers=0 augmentation draws from the process's
torch RNG, which the stages save and restore with their checkpoints.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, DistributedSampler

# Offsets each rank's generator so ranks draw different augmentations for their shards.
_RANK_SEED_STRIDE = 1_000_003


class SeededDataLoader(DataLoader):
    """A DataLoader that remembers the seed `set_loader_epoch` derives each epoch's seed from."""

    def __init__(self, dataset: Dataset, *, seed: int, **kwargs) -> None:
        super().__init__(dataset, **kwargs)
        self.seed = seed


def make_loader(
    dataset: Dataset,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int = 0,
    drop_last: bool = False,
    num_workers: int = 0,
) -> DataLoader:
    """A loader over `dataset`; under torch.distributed each rank iterates its own shard.

    Call `set_loader_epoch(loader, epoch)` at the start of every epoch.
    """
    sampler = None
    if _distributed():
        # The sampler shuffles (the same permutation on every rank, seeded by seed + epoch)
        # and hands each rank a disjoint slice.
        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed, drop_last=drop_last)
    loader = SeededDataLoader(
        dataset,
        seed=seed,
        batch_size=batch_size,
        shuffle=shuffle if sampler is None else False,
        sampler=sampler,
        drop_last=drop_last,
        num_workers=num_workers,
        generator=torch.Generator(),
    )
    set_loader_epoch(loader, 0)
    return loader


def set_loader_epoch(loader: DataLoader, epoch: int) -> None:
    """Make the next pass over `loader` epoch `epoch` of its seeded sequence."""
    seed = getattr(loader, "seed", None)
    if seed is None:
        raise TypeError("set_loader_epoch needs a loader made by make_loader")
    if isinstance(loader.sampler, DistributedSampler):
        loader.sampler.set_epoch(epoch)
    rank = dist.get_rank() if _distributed() else 0
    loader.generator.manual_seed(seed + epoch + rank * _RANK_SEED_STRIDE)


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()
