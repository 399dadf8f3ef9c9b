"""`RayRunner` on a real two-node Ray cluster: DDP across nodes, a killed worker resuming, and a
whole trial in one worker group that resumes its current stage and skips its finished ones."""

from functools import partial
from pathlib import Path

import pytest
import ray
import torch
import torch.distributed as dist
from ray.cluster_utils import Cluster
from worker_hooks import DieOnceAfter, WorkerProbe

from tasray.config import load_experiment
from tasray.distributed.device_task import on_worker
from tasray.distributed.flows import TrialFlow
from tasray.distributed.train import POLL_INTERVAL, RayRunner
from tasray.distributed.worker import state_file
from tasray.engine.jobs import SEARCH_WORKER_ENV, SearchJob
from tasray.engine.pipeline import (
    Teacher,
    TrialPlan,
    full_spec,
    get_teacher,
    load_teacher_checkpoint,
    teacher_job,
)
from tasray.engine.runner import LocalRunner
from tasray.models.factory import build_network
from tasray.stages.base import load_state

QUICKSTART = Path(__file__).resolve().parents[2] / "experiments" / "quickstart.yaml"
pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def two_nodes():
    """A head and a worker node of one CPU each, so that two workers must land on different nodes."""
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def final_state(result: ray.train.Result, job) -> dict:
    with result.checkpoint.as_directory() as folder:
        return load_state(Path(folder) / state_file(job))


def test_search_on_two_nodes_keeps_both_ranks_identical(two_nodes, tmp_path):
    overrides = [f"storage_path={tmp_path}", "search.epochs=2", "resources.num_workers=2"]
    exp = load_experiment(QUICKSTART, overrides)
    job = SearchJob.of(full_spec(exp), exp.search, exp.data, exp.seed)
    probe = WorkerProbe([*sorted(job.worker_env), POLL_INTERVAL[0]])
    result = RayRunner(exp.resources, exp.storage_path, exp.name, "two-nodes", worker_hooks=[probe]).fit(job)
    workers = sorted(result.metrics["workers"], key=lambda w: w["rank"])
    assert [w["rank"] for w in workers] == [0, 1]
    alive = {node["NodeID"] for node in ray.nodes() if node["Alive"]}
    assert len({w["node_id"] for w in workers}) == 2 and {w["node_id"] for w in workers} == alive
    assert workers[0]["weights_sha256"] == workers[1]["weights_sha256"]
    # A small oneDNN cache (flat CPU memory), and the controller's poll interval (Ray passes it on
    # from the process that starts the run to the controller, then to the workers).
    assert all(w["env"] == {**SEARCH_WORKER_ENV, POLL_INTERVAL[0]: POLL_INTERVAL[1]} for w in workers)
    state = final_state(result, job)
    assert [h["epoch"] for h in state["history"]] == [0, 1]
    assert job.result_from_state(state).spec.model == exp.model.name
    assert result.return_value.spec == job.result_from_state(state).spec


def test_killed_worker_resumes_from_its_last_checkpoint(two_nodes, tmp_path):
    marker = tmp_path / "crashed-once"
    overrides = [f"storage_path={tmp_path}", "teacher.epochs=3", "resources.max_failures=1"]
    exp = load_experiment(QUICKSTART, overrides)
    job = teacher_job(exp)
    fault = DieOnceAfter(1, marker)  # rank 0 dies once, after epoch 1
    result = RayRunner(exp.resources, exp.storage_path, exp.name, "fault", worker_hooks=[fault]).fit(job)
    assert marker.exists()  # rank 0 did die after epoch 1
    assert result.metrics["start_epoch"] == 2 and result.metrics["epoch"] == 2
    state = final_state(result, job)
    assert [h["epoch"] for h in state["history"]] == [0, 1, 2]
    # Restored weights, optimiser, scheduler and RNG make the resumed run the uninterrupted one.
    expected = uninterrupted_weights(job, tmp_path)
    assert all(torch.equal(state["model"][k], expected[k]) for k in expected)


def test_a_trial_runs_in_one_group_and_resumes_its_current_stage(two_nodes, tmp_path):
    marker = tmp_path / "crashed-once"
    overrides = [f"storage_path={tmp_path}", "search.epochs=2", "retrain.epochs=2"]
    exp = load_experiment(QUICKSTART, [*overrides, "resources.num_workers=2", "resources.max_failures=1"])
    spec = full_spec(exp)
    teacher = Teacher(spec, build_network(spec).eval(), 10.0, 50.0, 0.0)  # untrained: KD still runs
    plan = TrialPlan("tas-000", "tas", exp)
    fault = DieOnceAfter(0, marker, stage="retrain")  # rank 0 dies once, after retraining epoch 0
    runner = RayRunner(exp.resources, exp.storage_path, exp.name, "trial", worker_hooks=[fault])
    result = runner.fit_flow(TrialFlow(plan, teacher), "trial")
    assert marker.exists()
    # The restarted group took the search from its final state and resumed the retraining.
    assert result.metrics["stage"] == "retrain" and result.metrics["start_epoch"] == 1
    run = Path(result.path)
    assert sorted(p.name for p in run.glob("tasray_final-*")) == [
        "tasray_final-retrain.pt",
        "tasray_final-search.pt",
    ]
    assert (run / "tasray_final-search.pt").stat().st_mtime < marker.stat().st_mtime  # not searched again
    record = result.return_value
    assert record.trial_id == "tas-000" and len(record.search_history) == 2
    assert 0 < record.flop_ratio < 1


class NoTraining:
    def run(self, job):
        raise AssertionError(f"{job.name} was trained: a checkpoint was given")


def test_a_teacher_checkpoint_is_scored_in_a_task_that_holds_a_workers_resources(two_nodes, tmp_path):
    checkpoint = tmp_path / "teacher.pt"
    overrides = [f"storage_path={tmp_path}", f"teacher.checkpoint={checkpoint}", "teacher.epochs=0"]
    exp = load_experiment(QUICKSTART, overrides)
    torch.manual_seed(0)
    torch.save(build_network(full_spec(exp)).state_dict(), checkpoint)
    # What the driver passes: a Ray task with one worker's CPUs (and GPU), not the driver's CPU.
    held = on_worker(lambda: ray.get_runtime_context().get_assigned_resources(), exp.resources)
    assert held == {"CPU": exp.resources.cpus_per_worker}
    teacher = get_teacher(exp, NoTraining(), partial(on_worker, load_teacher_checkpoint, exp.resources))
    here = load_teacher_checkpoint(exp, torch.device("cpu"))
    assert (teacher.top1, teacher.top5, teacher.losses) == (here.top1, here.top5, here.losses)
    assert all(torch.equal(v, here.model.state_dict()[k]) for k, v in teacher.model.state_dict().items())


def uninterrupted_weights(job, tmp_path: Path) -> dict:
    """The job run here without a fault, the way a one-CPU Ray Train worker runs it: a one-rank
    gloo group (so the same sharded loader and DDP) on one thread (so the same float sums)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'group'}", rank=0, world_size=1)
    try:
        return LocalRunner(torch.device("cpu"), progress=False).run(job).model.state_dict()
    finally:
        dist.destroy_process_group()
        torch.set_num_threads(threads)
