"""Content keys: a trial's key covers what determines its row and nothing else."""

from pathlib import Path

from tasray.config import load_experiment, setup_key, sweep_key, teacher_key, trial_key

QUICKSTART = Path(__file__).resolve().parents[2] / "experiments" / "quickstart.yaml"


def test_the_trial_key_ignores_where_and_beside_what_a_trial_runs(tmp_path):
    exp = load_experiment(QUICKSTART)
    elsewhere = load_experiment(
        QUICKSTART,
        [
            f"storage_path={tmp_path}",
            "resources.cpus_per_worker=2",
            "resources.max_failures=3",
            "resources.trial_max_failures=0",
            "sweep.num_samples=9",
            "sweep.max_concurrent=3",
            "data.loader_workers=2",
            "baselines=[]",
        ],
    )
    assert trial_key(exp, "tas") == trial_key(elsewhere, "tas")
    assert sweep_key(exp.model_copy(update={"baselines": []})) == sweep_key(elsewhere)
    assert teacher_key(exp) == teacher_key(elsewhere)


def test_the_trial_key_changes_with_what_determines_a_row():
    exp = load_experiment(QUICKSTART)
    keys = {
        trial_key(exp, "tas"),
        trial_key(exp, "tas_w"),
        trial_key(exp.with_values({"search.target_ratio": 0.45}), "tas"),
        trial_key(exp.with_values({"retrain.transfer": "init"}), "tas"),
        trial_key(exp.with_values({"seed": 1}), "tas"),
        trial_key(exp.with_values({"data.batch_size": 32}), "tas"),
        trial_key(exp, "fixed_ratio", 0),
        trial_key(exp.with_values({"baselines.0.criterion": "random"}), "fixed_ratio", 0),
        trial_key(exp, "random_search", 1),
    }
    assert len(keys) == 9
    # A baseline's key depends on its own entry, not on the others or on the sweep.
    fewer = exp.with_values({"baselines": [exp.baselines[0].model_dump()]})
    assert trial_key(fewer, "fixed_ratio", 0) == trial_key(exp, "fixed_ratio", 0)
    assert sweep_key(exp) != sweep_key(exp.with_values({"sweep.algorithm": "random"}))


def test_the_number_of_workers_sets_the_global_batch_and_so_the_keys():
    exp = load_experiment(QUICKSTART)
    two = exp.with_values({"resources.num_workers": 2})
    assert teacher_key(two) != teacher_key(exp)
    assert (
        trial_key(two, "tas")
        != trial_key(exp, "tas")
        != trial_key(exp.with_values({"resources.num_workers": 4}), "tas")
    )
    assert trial_key(two, "fixed_ratio", 0) != trial_key(exp, "fixed_ratio", 0)
    assert setup_key(two, "tas") != setup_key(exp, "tas") and sweep_key(two) != sweep_key(exp)
    # One worker (the default) hashes as before the workers were hashed: those rows and teachers stay.
    assert (teacher_key(exp), trial_key(exp, "tas"), trial_key(exp, "fixed_ratio", 0)) == (
        "95325c8c7414eaa2",
        "f1a93e6b4084f050",
        "99b222cde99a7aec",
    )


def test_an_image_size_changes_the_keys_and_unset_leaves_older_keys_alone():
    exp = load_experiment(QUICKSTART.with_name("imagenet_resnet50.yaml"))
    resized = exp.with_values({"data.image_size": 160})
    assert teacher_key(resized) != teacher_key(exp) and trial_key(resized, "tas") != trial_key(exp, "tas")
    assert "image_size" not in str(exp.data.model_dump(exclude_none=True))


def test_an_npz_label_names_the_rows_and_changes_the_trial_key_not_the_teacher(tmp_path):
    exp = load_experiment(QUICKSTART, ["data.name=npz", f"data.root={tmp_path / 'cifar10-subset.npz'}"])
    assert exp.data.data_set == "cifar10-subset"  # unset: the file's stem
    labelled = exp.with_values({"data.label": "cifar-small"})
    assert labelled.data.data_set == "cifar-small" and load_experiment(QUICKSTART).data.data_set == "digits"
    assert teacher_key(labelled) == teacher_key(exp) and trial_key(labelled, "tas") != trial_key(exp, "tas")


def test_the_setup_key_is_the_trial_key_without_the_seed():
    exp = load_experiment(QUICKSTART)
    assert setup_key(exp, "tas") == setup_key(exp.with_values({"seed": 7}), "tas") != setup_key(exp, "tas_w")
    assert trial_key(exp, "tas") != trial_key(exp.with_values({"seed": 7}), "tas")
    assert setup_key(exp, "fixed_ratio", 0) != setup_key(exp, "random_search", 1)
