"""DataLoaders that shard across ranks under torch.distributed and replay exactly by seed.

Per epoch, call `set_loader_epoch(loader, epoch)` before iterating. It reseeds the shuffling
(a DistributedSampler's epoch, or the loader's generator) so that every epoch differs yet an
epoch's batches depend only on (seed, epoch): a resumed run sees the batches the uninterrupted
run would have seen.

Augmentation: with `workers=0` it draws from the process's torch RNG, which the stages save and
restore with their checkpoints. With workers, every sample carries its own seed, drawn in the
main process from (seed, epoch, rank), and the worker that loads it seeds its torch RNG with it
first. An augmented batch then depends on neither the number of workers, nor which worker loads
it, nor whether the workers persist across epochs, and a resumed run replays it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.utils.data import (
    DataLoader,
    Dataset,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
)

# Offsets each rank's generator so ranks draw different augmentations for their shards.
_RANK_SEED_STRIDE = 1_000_003
# Offsets the order and per-sample seed streams of an epoch from each other.
_STREAM_OFFSET = 7_919


@dataclass(frozen=True)
class LoaderOptions:
    """How batches are produced and handed to the device.

    Args:
        workers: loader processes (0 loads in the training process).
        pin_memory: page-locked host batches, so a CUDA copy with ``non_blocking=True`` overlaps
            compute. Only useful with a CUDA device.
        persistent_workers: keep the worker processes between epochs (with workers > 0).
        prefetch_factor: batches each worker loads ahead (with workers > 0).
    """

    workers: int = 0
    pin_memory: bool = False
    persistent_workers: bool = True
    prefetch_factor: int = 2

    def loader_kwargs(self) -> dict:
        """The DataLoader keyword arguments these options stand for."""
        kwargs: dict = {"num_workers": self.workers, "pin_memory": self.pin_memory}
        if self.workers > 0:
            kwargs.update(persistent_workers=self.persistent_workers, prefetch_factor=self.prefetch_factor)
        return kwargs


class SeededDataLoader(DataLoader):
    """A DataLoader that remembers the seed `set_loader_epoch` derives each epoch's seeds from.

    `epoch_generators` are reseeded every epoch besides the loader's own generator: with workers,
    the shuffling order and the per-sample seeds, each from a generator of its own, so that no
    draw of the DataLoader machinery (its workers' base seed) shifts them.
    """

    def __init__(
        self, dataset: Dataset, *, seed: int, epoch_generators: tuple[torch.Generator, ...], **kwargs
    ) -> None:
        super().__init__(dataset, **kwargs)
        self.seed = seed
        self.epoch_generators = epoch_generators


class SeededSamples(Sampler):
    """Yields `(index, seed)`: the indices of `base`, each with a seed drawn from `generator`."""

    def __init__(self, base: Sampler, generator: torch.Generator) -> None:
        self.base, self.generator = base, generator

    def __iter__(self) -> Iterator[tuple[int, int]]:
        indices = list(self.base)
        seeds = torch.randint(0, 2**62, (len(indices),), generator=self.generator).tolist()
        return iter(zip(indices, seeds, strict=True))

    def __len__(self) -> int:
        return len(self.base)


class SeededItems(Dataset):
    """`dataset[index]`, loaded after seeding this process's torch RNG with the sample's seed."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]):
        index, seed = key
        torch.manual_seed(seed)  # runs in a loader worker: the training process's RNG is untouched
        return self.dataset[index]


def make_loader(
    dataset: Dataset,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int = 0,
    drop_last: bool = False,
    options: LoaderOptions | None = None,
) -> DataLoader:
    """A loader over `dataset`; under torch.distributed each rank iterates its own shard.

    Call `set_loader_epoch(loader, epoch)` at the start of every epoch.
    """
    options = options or LoaderOptions()
    generator = torch.Generator()
    epoch_generators = (torch.Generator(), torch.Generator()) if options.workers > 0 else ()
    order = epoch_generators[0] if epoch_generators else generator
    if _distributed():
        # The sampler shuffles (the same permutation on every rank, seeded by seed + epoch)
        # and hands each rank a disjoint slice.
        sampler: Sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed, drop_last=drop_last)
    elif shuffle:
        sampler = RandomSampler(dataset, generator=order)
    else:
        sampler = SequentialSampler(dataset)
    if epoch_generators:
        sampler, dataset = SeededSamples(sampler, epoch_generators[1]), SeededItems(dataset)
    loader = SeededDataLoader(
        dataset,
        seed=seed,
        epoch_generators=epoch_generators,
        batch_size=batch_size,
        sampler=sampler,
        drop_last=drop_last,
        generator=generator,
        **options.loader_kwargs(),
    )
    set_loader_epoch(loader, 0)
    return loader


def set_loader_epoch(loader: DataLoader, epoch: int) -> None:
    """Make the next pass over `loader` epoch `epoch` of its seeded sequence."""
    seed = getattr(loader, "seed", None)
    if seed is None:
        raise TypeError("set_loader_epoch needs a loader made by make_loader")
    sampler = loader.sampler.base if isinstance(loader.sampler, SeededSamples) else loader.sampler
    if isinstance(sampler, DistributedSampler):
        sampler.set_epoch(epoch)
    rank = dist.get_rank() if _distributed() else 0
    epoch_seed = seed + epoch + rank * _RANK_SEED_STRIDE
    loader.generator.manual_seed(epoch_seed)
    for index, generator in enumerate(loader.epoch_generators, start=1):
        generator.manual_seed(epoch_seed + index * _STREAM_OFFSET)


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()
