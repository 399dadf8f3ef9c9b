import json

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import DataLoader, DistributedSampler, Subset, TensorDataset

from tasray.config import DataConfig
from tasray.data import LoaderOptions, load_data, make_loader, set_loader_epoch, split_halves


def _epoch(loader, epoch):
    set_loader_epoch(loader, epoch)
    return [(images.clone(), labels.clone()) for images, labels in loader]


def _same(first, second):
    return len(first) == len(second) and all(
        torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip(first, second, strict=True)
    )


@pytest.fixture(scope="module")
def digits():
    return load_data("digits")


def test_same_seed_same_batches_each_epoch_different_order(digits):
    first = make_loader(digits.train_eval, 100, shuffle=True, seed=7)
    second = make_loader(digits.train_eval, 100, shuffle=True, seed=7)
    epochs = [_epoch(first, e) for e in range(2)]
    assert _same(epochs[0], _epoch(second, 0)) and _same(epochs[1], _epoch(second, 1))
    assert not torch.equal(epochs[0][0][1], epochs[1][0][1])
    other_seed = make_loader(digits.train_eval, 100, shuffle=True, seed=8)
    assert not _same(epochs[0], _epoch(other_seed, 0))


def test_a_resumed_run_sees_the_batches_of_the_epoch_it_resumes(digits):
    uninterrupted = make_loader(digits.train_eval, 64, shuffle=True, seed=3)
    for epoch in range(3):
        batches = _epoch(uninterrupted, epoch)
    resumed = make_loader(digits.train_eval, 64, shuffle=True, seed=3)
    assert _same(batches, _epoch(resumed, 2))


def test_augmented_batches_replay_given_the_torch_rng_state(digits):
    runs = []
    for _ in range(2):
        torch.manual_seed(11)  # what a stage restores from its checkpoint
        loader = make_loader(digits.train, 128, shuffle=True, seed=0)
        runs.append(_epoch(loader, 0) + _epoch(loader, 1))
    assert _same(*runs)


def test_worker_augmentation_replays_from_the_seed_alone(digits):
    d_train, _ = split_halves(len(digits.train), seed=0)
    subset = Subset(digits.train, d_train[:256])
    runs = []
    for global_seed in (1, 2):  # workers must not depend on the parent's RNG
        torch.manual_seed(global_seed)
        runs.append(_epoch(make_loader(subset, 64, shuffle=True, seed=4, options=LoaderOptions(2)), 1))
    assert _same(*runs)


def test_augmented_batches_do_not_depend_on_the_workers(digits):
    d_train, _ = split_halves(len(digits.train), seed=0)
    subset = Subset(digits.train, d_train[:300])
    two = make_loader(subset, 64, shuffle=True, seed=5, options=LoaderOptions(2))  # persistent
    uninterrupted = [_epoch(two, epoch) for epoch in range(3)]
    three = make_loader(subset, 64, shuffle=True, seed=5, options=LoaderOptions(3, persistent_workers=False))
    resumed = make_loader(subset, 64, shuffle=True, seed=5, options=LoaderOptions(2))
    assert _same(uninterrupted[1], _epoch(three, 1))  # 3 workers, not persistent: the same batches
    assert _same(uninterrupted[2], _epoch(resumed, 2))  # a run resumed at epoch 2 replays it
    assert not _same(uninterrupted[1], uninterrupted[2])
    # Augmentation is drawn: the same images in the same order without it differ from the batches.
    plain = make_loader(
        Subset(digits.train_eval, d_train[:300]), 64, shuffle=True, seed=5, options=LoaderOptions(2)
    )
    unaugmented = _epoch(plain, 2)
    assert all(torch.equal(a[1], b[1]) for a, b in zip(uninterrupted[2], unaugmented, strict=True))
    assert not _same(uninterrupted[2], unaugmented)


def test_worker_default_is_zero_in_memory_and_several_for_image_folders():
    assert DataConfig(name="digits").loader_workers == 0
    assert DataConfig(name="cifar10", root="data").loader_workers == 0
    assert DataConfig(name="imagenet", root="/x").loader_workers == 8
    assert DataConfig(name="imagenet", root="/x", loader_workers=2).loader_workers == 2


def test_unshuffled_loader_keeps_order_and_drop_last_drops_the_tail():
    dataset = TensorDataset(torch.arange(10))
    loader = make_loader(dataset, 4, shuffle=False, drop_last=True)
    set_loader_epoch(loader, 5)
    assert [batch[0].tolist() for batch in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_epochs_need_a_loader_from_make_loader():
    with pytest.raises(TypeError, match="make_loader"):
        set_loader_epoch(DataLoader(TensorDataset(torch.arange(3))), 1)


def test_single_process_group_uses_a_distributed_sampler(tmp_path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1)
    try:
        loader = make_loader(TensorDataset(torch.arange(10)), 4, shuffle=True, seed=2)
        assert isinstance(loader.sampler, DistributedSampler)
        set_loader_epoch(loader, 3)
        assert loader.sampler.epoch == 3
        assert sorted(torch.cat([batch[0] for batch in loader]).tolist()) == list(range(10))
    finally:
        dist.destroy_process_group()
    assert isinstance(
        make_loader(TensorDataset(torch.arange(3)), 2, shuffle=True).sampler,
        torch.utils.data.RandomSampler,
    )


def _rank_worker(rank: int, folder: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=2)
    try:
        loader = make_loader(TensorDataset(torch.arange(12)), 4, shuffle=True, seed=9)
        seen = {
            epoch: torch.cat([b[0] for b in _epoch_batches(loader, epoch)]).tolist() for epoch in range(2)
        }
    finally:
        dist.destroy_process_group()
    with open(f"{folder}/rank{rank}.json", "w") as handle:
        json.dump(seen, handle)


def _epoch_batches(loader, epoch):
    set_loader_epoch(loader, epoch)
    return list(loader)


def test_two_ranks_see_disjoint_shards_that_cover_the_set(tmp_path):
    # fork, not spawn: children inherit the imports, which saves ~8 s of start-up on 2 cores.
    mp.start_processes(_rank_worker, args=(str(tmp_path),), nprocs=2, start_method="fork")
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    for epoch in ("0", "1"):
        first, second = ranks[0][epoch], ranks[1][epoch]
        assert len(first) == len(second) == 6
        assert set(first).isdisjoint(second) and sorted(first + second) == list(range(12))
    assert ranks[0]["0"] != ranks[0]["1"]  # each epoch reshuffles
