"""The in-process pipeline: teacher cache, one TAS trial and one baseline trial to results rows."""

from tasray.config import load_experiment, teacher_key
from tasray.pipeline import TeacherCache, TrialPlan, baseline_plans, get_teacher, run_trial
from tasray.results import ResultsStore, read_results
from tasray.runner import LocalRunner

SMALL = ["teacher.epochs=1", "search.epochs=1", "retrain.epochs=1", "baselines.1.num_candidates=2"]


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
