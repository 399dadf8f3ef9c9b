"""A stage stopped after epoch k and restored from its saved state finishes exactly like an
uninterrupted run (CPU, same seed)."""

import torch

from tasray.config import DataConfig, SearchConfig
from tasray.engine.jobs import SearchJob, TrainJob
from tasray.stages.base import load_state, save_state
from tasray.stages.train import TrainSettings


def interrupted_and_whole(job, tmp_path):
    device = torch.device("cpu")
    whole = job.build(device).fit(progress=False)
    first = job.build(device)
    first.epochs = 1
    first.fit(progress=False)
    save_state(first.state_dict(), tmp_path / "state.pt")
    torch.manual_seed(12345)  # a fresh process would not share the first run's RNG position
    resumed = job.build(device)
    resumed.load_state_dict(load_state(tmp_path / "state.pt"))
    resumed.fit(progress=False)
    return whole, resumed


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def test_train_stage_resumes_exactly(tmp_path, digits_spec) -> None:
    job = TrainJob(
        "teacher", digits_spec, TrainSettings(epochs=2, batch_size=64), DataConfig(name="digits"), seed=3
    )
    whole, resumed = interrupted_and_whole(job, tmp_path)
    assert_same_weights(whole.model, resumed.model)
    assert [h["top1"] for h in whole.history] == [h["top1"] for h in resumed.history]


def test_search_stage_resumes_exactly(tmp_path, digits_spec) -> None:
    cfg = SearchConfig(epochs=2, arch_lr=0.05)
    job = SearchJob.of(digits_spec, cfg, DataConfig(name="digits", batch_size=128), seed=3)
    whole, resumed = interrupted_and_whole(job, tmp_path)
    assert_same_weights(whole.network, resumed.network)
    assert resumed.network.tau == whole.network.tau
    assert whole.result().spec == resumed.result().spec
