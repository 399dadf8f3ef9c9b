"""The experiment schema: defaults, cross-field rules, overrides, with_values, hashes, geometry."""

import re
from pathlib import Path

import numpy as np
import pytest
from ruamel.yaml import YAML

from tasray.config import (
    ConfigError,
    Experiment,
    config_hash,
    dataset_geometry,
    load_experiment,
    save_resolved,
    teacher_key,
)
from tasray.config.sections import DataConfig

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
MINIMAL = "name: demo\nmodel: {name: cifar_resnet20}\n"


def write(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def minimal(**sections) -> Experiment:
    return Experiment.model_validate({"name": "demo", "model": {"name": "cifar_resnet20"}, **sections})


def test_defaults_are_the_papers_cifar_settings():
    exp = minimal()
    search, retrain, teacher = exp.search, exp.retrain, exp.teacher
    assert (search.epochs, search.num_selected, search.lambda_cost, search.tolerance) == (
        600,
        2,
        2.0,
        0.05,
    )
    assert (search.tau_max, search.tau_min, search.tau_schedule) == (5.0, 0.1, "cosine")
    assert search.width_ratios == [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert (search.arch_lr, search.arch_weight_decay, search.weight_lr) == (1e-3, 1e-3, 0.1)
    assert (retrain.epochs, retrain.transfer, retrain.kd_weight, retrain.kd_temperature) == (
        300,
        "kd",
        0.9,
        4.0,
    )
    assert (teacher.epochs, teacher.weight_decay, exp.data.batch_size) == (300, 5e-4, 256)


def test_width_ratios_are_sorted():
    assert minimal(search={"width_ratios": [1.0, 0.5, 0.25]}).search.width_ratios == [
        0.25,
        0.5,
        1.0,
    ]


def test_baselines_default_to_the_search_target_ratio():
    exp = minimal(
        search={"target_ratio": 0.4},
        baselines=[
            {"method": "fixed_ratio"},
            {"method": "fixed_ratio", "keep_ratio": 0.7},
            {"method": "random_search", "target_ratio": 0.8},
        ],
    )
    assert [b.target_ratio for b in exp.baselines] == [0.4, None, 0.8]
    assert exp.baselines[1].keep_ratio == 0.7


def test_use_gpu_without_a_count_means_one_gpu():
    assert minimal(resources={"use_gpu": True}).resources.gpus_per_worker == 1.0
    assert minimal(resources={"use_gpu": True, "gpus_per_worker": 0.5}).resources.gpus_per_worker == 0.5


def test_teacher_epochs_zero_is_fine_with_a_checkpoint():
    assert minimal(teacher={"epochs": 0, "checkpoint": "t.pt"}).teacher.epochs == 0


def test_yaml_1_2_reads_no_as_text_and_octal_only_with_0o(tmp_path):
    exp = load_experiment(write(tmp_path, "name: no\nmodel: {name: cifar_resnet20}\nseed: 017\n"))
    assert (exp.name, exp.seed) == ("no", 17)  # YAML 1.1: False (an invalid name) and 15


def test_yaml_reads_exponent_floats_and_rejects_duplicate_keys(tmp_path):
    exp = load_experiment(write(tmp_path, MINIMAL + "search: {arch_lr: 2e-4}\n"))
    assert exp.search.arch_lr == 2e-4
    with pytest.raises(ConfigError, match='line 4, column 1: found duplicate key "search"'):
        load_experiment(write(tmp_path, MINIMAL + "search: {}\nsearch: {}\n"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("serch: {}\n", "unknown key 'serch' at top level; allowed: baselines, data, latency, model"),
        ("search: {target_ratio: 1.5}\n", "search.target_ratio = 1.5: must be in (0, 1]"),
        ("search: {num_selected: 1}\n", "search.num_selected = 1: must be >= 2"),
        ("search: {tau_min: 20}\n", "search.tau_min = 20.0: must be <= tau_max (5)"),
        ("baselines: [{method: prune}]\n", "baselines[0].method = 'prune': must be one of"),
        ("baselines: [{method: fixed_ratio, keep: 1}]\n", "unknown key 'keep' in baselines[0]"),
        ("data: {name: imagenet, root: x, image_size: 0}\n", "data.image_size = 0: must be > 0"),
        ("data: {name: imagenet, root: x, image_size: 1.5}\n", "data.image_size = 1.5: must be a valid int"),
        ("data: {image_size: 64}\n", "data.image_size = 64: applies to image folders (imagenet) only"),
        ("data: {label: my-digits}\n", "data.label = 'my-digits': names npz data sets only"),
        ("data: {name: npz, root: a.npz, label: a/b}\n", "data.label = 'a/b': use letters, digits"),
        (
            "data: {name: cifar10, download: true}\n",
            "data.root = null: required for data 'cifar10'; set data.root (in the file, or --set data.root="
            "PATH) to the folder that holds cifar-10-batches-py/ (or will, with data.download: true)",
        ),
    ],
)
def test_errors_name_field_value_and_rule(tmp_path, text, expected):
    with pytest.raises(ConfigError) as err:
        load_experiment(write(tmp_path, MINIMAL + text))
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_sweep_values_must_be_valid_for_their_field(tmp_path):
    text = MINIMAL + "sweep: {space: {search.target_ratio: {uniform: [0.3, 1.5]}}}\n"
    with pytest.raises(ConfigError, match=r"sweep.space.search.target_ratio = .*1.5 is invalid"):
        load_experiment(write(tmp_path, text))


def test_overrides_set_values_before_validation(tmp_path):
    path = write(tmp_path, MINIMAL + "baselines: [{method: fixed_ratio}]\n")
    exp = load_experiment(
        path,
        [
            "search.epochs=3",
            "sweep.space.search.target_ratio={uniform: [0.3, 0.6]}",
            "baselines.0.transfer=init",
            "teacher.checkpoint=null",
        ],
    )
    assert exp.search.epochs == 3
    assert exp.sweep.space["search.target_ratio"].bounds == (0.3, 0.6)
    assert exp.baselines[0].transfer == "init"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("serch.epochs=3", "--set serch.epochs: unknown key 'serch' at top level"),
        ("search.epoch=3", "unknown key 'epoch' in search; allowed: arch_lr"),
        ("search.epochs", "expected key.path=value"),
        ("baselines.4.transfer=kd", "baselines has 0 items"),
        ("name.x=1", "name is a single value"),
        ("search.epochs=0", "search.epochs = 0: must be > 0"),
    ],
)
def test_bad_overrides_are_one_line_errors(tmp_path, override, expected):
    with pytest.raises(ConfigError) as err:
        load_experiment(write(tmp_path, MINIMAL), [override])
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_with_values_returns_a_revalidated_copy():
    exp = minimal(sweep={"space": {"search.num_selected": {"choice": [2, 3]}}})
    trial = exp.with_values({"search.num_selected": 3, "retrain.transfer": "init"})
    assert (trial.search.num_selected, trial.retrain.transfer) == (3, "init")
    assert (exp.search.num_selected, exp.retrain.transfer) == (2, "kd")
    with pytest.raises(ConfigError, match=r"search.num_selected = 1: must be >= 2"):
        exp.with_values({"search.num_selected": 1})
    with pytest.raises(ConfigError, match="unknown key 'lambda' in search"):
        exp.with_values({"search.lambda": 1.0})


def test_with_values_accepts_a_valid_point_of_two_dependent_ranges():
    # Bounds are checked against the loaded experiment, not again against each trial's values.
    space = {"search.tau_min": {"uniform": [0.05, 1.0]}, "search.tau_max": {"uniform": [0.5, 10.0]}}
    trial = minimal(sweep={"space": space}).with_values({"search.tau_min": 0.2, "search.tau_max": 0.6})
    assert (trial.search.tau_min, trial.search.tau_max) == (0.2, 0.6)


def test_save_resolved_round_trips(tmp_path):
    exp = load_experiment(EXPERIMENTS / "quickstart.yaml")
    save_resolved(exp, tmp_path / "out" / "resolved.yaml")
    written = YAML(typ="safe").load((tmp_path / "out" / "resolved.yaml").read_text())
    assert written["search"]["tau_schedule"] == "cosine"  # defaults are written out
    assert written["sweep"]["space"]["search.num_selected"] == {"choice": [2, 3]}
    assert load_experiment(tmp_path / "out" / "resolved.yaml") == exp
    assert list((tmp_path / "out").iterdir()) == [tmp_path / "out" / "resolved.yaml"]


def test_config_hash_is_stable_and_content_based():
    exp = minimal()
    assert config_hash(exp) == config_hash(minimal())
    assert config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})
    assert config_hash(exp) != config_hash(exp.with_values({"search.epochs": 5}))
    assert len(config_hash(exp)) == 16 and int(config_hash(exp), 16) >= 0


def test_teacher_key_follows_only_what_trains_the_teacher():
    exp = minimal()
    assert teacher_key(exp) == teacher_key(exp.with_values({"search.epochs": 5}))
    assert teacher_key(exp) == teacher_key(exp.with_values({"data.loader_workers": 4}))
    for change in (
        {"teacher.epochs": 5},
        {"seed": 1},
        {"model.name": "cifar_resnet32"},
        {"data.batch_size": 128},
    ):
        assert teacher_key(exp) != teacher_key(exp.with_values(change))


@pytest.mark.parametrize(
    ("name", "geometry"),
    [("digits", (1, (8, 8), 10)), ("cifar10", (3, (32, 32), 10)), ("cifar100", (3, (32, 32), 100))],
)
def test_geometry_of_built_in_data_sets(name, geometry):
    assert dataset_geometry(DataConfig(name=name, root="data")) == geometry


def test_imagenet_geometry_counts_class_folders(tmp_path):
    for name in ("n01", "n02", "n03"):
        (tmp_path / "train" / name).mkdir(parents=True)
    assert dataset_geometry(DataConfig(name="imagenet", root=str(tmp_path))) == (3, (224, 224), 3)
    absent = DataConfig(name="imagenet", root=str(tmp_path / "absent"))
    assert dataset_geometry(absent) == (3, (224, 224), 1000)


def test_npz_geometry_reads_headers_and_labels(tmp_path):
    path = tmp_path / "set.npz"
    labels = np.array([0, 4, 2, 1, 3])
    np.savez_compressed(
        path,
        x_train=np.zeros((5, 12, 10, 2), np.uint8),
        y_train=labels,
        x_test=np.zeros((1, 12, 10, 2), np.uint8),
        y_test=labels[:1],
    )
    assert dataset_geometry(DataConfig(name="npz", root=str(path))) == (2, (12, 10), 5)
    gray = tmp_path / "gray.npz"
    np.savez(
        gray,
        x_train=np.zeros((2, 7, 9)),
        y_train=labels[:2],
        x_test=np.zeros((1, 7, 9)),
        y_test=labels[:1],
        classes=np.array(["a", "b", "c", "d", "e", "f", "g"]),
    )
    assert dataset_geometry(DataConfig(name="npz", root=str(gray))) == (1, (7, 9), 7)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "no such .npz file"), ({"x_train": np.zeros((2, 4, 4))}, "lacks arrays ['y_train'")],
)
def test_npz_geometry_errors_name_the_file(tmp_path, content, expected):
    path = tmp_path / "bad.npz"
    if content is not None:
        np.savez(path, **content)
    with pytest.raises(ConfigError, match=re.escape(f"data.root = '{path}': ") + ".*" + re.escape(expected)):
        dataset_geometry(DataConfig(name="npz", root=str(path)))


# Table 3 of the paper, TAS rows: R = 1 - prune ratio.
TABLE3_RATIOS = {
    ("cifar10", 20): 0.55,
    ("cifar10", 32): 0.506,
    ("cifar10", 56): 0.473,
    ("cifar10", 110): 0.47,
    ("cifar10", 164): 0.719,
    ("cifar100", 20): 0.55,
    ("cifar100", 32): 0.615,
    ("cifar100", 56): 0.487,
    ("cifar100", 110): 0.474,
    ("cifar100", 164): 0.691,
}


@pytest.mark.parametrize(("data", "depth"), sorted(TABLE3_RATIOS))
def test_table3_files_use_the_papers_ratio_and_both_baselines(data, depth):
    exp = load_experiment(EXPERIMENTS / f"{data}_resnet{depth}.yaml")
    assert (exp.data.name, exp.model.name) == (data, f"cifar_resnet{depth}")
    assert exp.search.target_ratio == TABLE3_RATIOS[data, depth]
    assert sorted(b.method for b in exp.baselines) == ["fixed_ratio", "random_search"]
    assert all(b.target_ratio == exp.search.target_ratio for b in exp.baselines)
    assert (exp.search.epochs, exp.retrain.epochs, exp.retrain.kd_weight) == (600, 300, 0.9)


@pytest.mark.parametrize(("depth", "ratio"), [(18, 0.667), (50, 0.565)])
def test_imagenet_files_use_table4_and_the_imagenet_settings(depth, ratio):
    exp = load_experiment(EXPERIMENTS / f"imagenet_resnet{depth}.yaml")
    assert (exp.model.name, exp.search.target_ratio) == (f"resnet{depth}", ratio)
    assert (exp.search.epochs, exp.retrain.epochs, exp.retrain.weight_decay) == (120, 120, 1e-4)
    assert (exp.retrain.kd_weight, exp.retrain.kd_temperature) == (0.5, 4.0)


def test_table1_crosses_methods_with_transfers():
    exp = load_experiment(EXPERIMENTS / "table1_resnet32_cifar100.yaml")
    transfers = ["scratch", "init", "kd"]
    assert exp.sweep.algorithm == "grid"
    assert exp.sweep.space["retrain.transfer"].choice == transfers
    for method in ("fixed_ratio", "random_search"):
        assert [b.transfer for b in exp.baselines if b.method == method] == transfers


@pytest.mark.parametrize("path", sorted(EXPERIMENTS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_experiment_file_starts_with_a_comment_and_matches_its_name(path):
    assert path.read_text().startswith("# ")
    assert load_experiment(path).name == path.stem


def test_a_relative_storage_path_is_taken_from_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exp = load_experiment(EXPERIMENTS / "quickstart.yaml", ["storage_path=runs/here"])
    assert exp.storage_path == str(tmp_path / "runs" / "here")
    assert (
        load_experiment(EXPERIMENTS / "quickstart.yaml", ["storage_path=s3://bucket/runs"]).storage_path
        == "s3://bucket/runs"
    )
    monkeypatch.chdir("/")  # a trial re-validates its experiment elsewhere: the path must not move
    assert Experiment.model_validate(exp.model_dump()).storage_path == exp.storage_path
