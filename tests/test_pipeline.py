"""The in-process pipeline: teacher cache, one TAS trial and one baseline trial to results rows."""

from dataclasses import replace

from tasray.config import load_experiment, teacher_key
from tasray.models.resnet import PrunedResNet
from tasray.pipeline import (
    Teacher,
    TeacherCache,
    TrialPlan,
    baseline_plans,
    full_spec,
    get_teacher,
    retrain_job,
    run_trial,
)
from tasray.results import ResultsStore, read_results
from tasray.runner import LocalRunner
from tasray.stages.transfer import L1Norm, select_channels

SMALL = ["teacher.epochs=2", "search.epochs=1", "retrain.epochs=2", "baselines.1.num_candidates=2"]


def test_trials_become_rows_and_the_teacher_is_trained_once(tmp_path) -> None:
    exp = load_experiment("experiments/quickstart.yaml", [*SMALL, f"storage_path={tmp_path}"])
    runner = LocalRunner(progress=False)
    teacher = get_teacher(exp, runner)
    cached = TeacherCache(exp.storage_path).load(teacher_key(exp))
    assert cached is not None and cached.top1 == teacher.top1

    class NoTraining:
        def run(self, job):
            raise AssertionError(f"{job.name} should come from the cache")

    assert get_teacher(exp, NoTraining()).top1 == teacher.top1
    store = ResultsStore(exp.storage_path)
    for plan in [TrialPlan("tas-0", "tas", exp), baseline_plans(exp)[0]]:
        store.append(run_trial(plan, teacher, runner))
    rows = read_results(tmp_path).to_pylist()
    assert [r["method"] for r in rows] == ["fixed_ratio", "tas"]
    tas = rows[1]
    assert len(tas["search_history"]) == 1 and tas["target_ratio"] == exp.search.target_ratio
    assert all(0 < r["flop_ratio"] < 1 and r["top1"] > 10 and r["teacher_top1"] == teacher.top1 for r in rows)


def test_init_transfer_keeps_the_teachers_l1_largest_filters_for_every_method(tmp_path) -> None:
    """TAS and random search rank the teacher's filters like fixed-ratio does, not by position."""
    exp = load_experiment(
        "experiments/quickstart.yaml", ["retrain.transfer=init", f"storage_path={tmp_path}"]
    )
    spec = full_spec(exp)
    model = PrunedResNet(spec)
    teacher = Teacher(spec, model, 90.0, 99.0, 0.0)
    half = replace(spec, widths=tuple(max(1, w // 2) for w in spec.widths))
    job = retrain_job(TrialPlan("tas-0", "tas", exp), half, teacher, None)
    assert job.kept_channels == select_channels(model, half, L1Norm())
    stem = model.stem[0].weight.abs().sum(dim=(1, 2, 3))
    assert job.kept_channels[0] == sorted(stem.topk(half.widths[0]).indices.tolist())
    assert job.kept_channels[0] != list(range(half.widths[0]))  # a random teacher's first filters lose
