"""`tasray validate`: every shipped experiment passes; malformed files exit 2 with one line."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tasray.cli import main
from tasray.cli.validate import dry_run
from tasray.config import SearchConfig, load_experiment
from tasray.costs.flops import count_flops
from tasray.spec.arch import ArchSpec

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.yaml"))
MODEL = "name: bad\nmodel: {name: cifar_resnet20}\n"


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.name)
def test_every_experiment_file_validates(path, capsys):
    assert main(["validate", str(path), "--skip-data-check"]) == 0
    assert path.stem in capsys.readouterr().out
    summary = dry_run(load_experiment(path), check_data=False)
    spec = ArchSpec.full(summary.model, summary.geometry[2], summary.geometry[0], summary.geometry[1])
    assert summary.flops == count_flops(spec) > 0
    assert summary.params > 0 and summary.total_trials >= 1


# Each case: the file's text and words the one-line error must contain.
MALFORMED = {
    "unknown_top_key": (
        MODEL + "serch: {epochs: 3}\n",
        ["unknown key 'serch' at top level", "search"],
    ),
    "unknown_nested_key": (
        MODEL + "search: {epoch: 3}\n",
        ["unknown key 'epoch' in search", "epochs"],
    ),
    "wrong_type": (MODEL + "search: {epochs: many}\n", ["search.epochs = 'many'", "integer"]),
    "ratio_zero": (MODEL + "search: {target_ratio: 0}\n", ["search.target_ratio = 0", "(0, 1]"]),
    "ratio_above_one": (
        MODEL + "search: {target_ratio: 1.5}\n",
        ["search.target_ratio = 1.5", "(0, 1]"],
    ),
    "ratio_negative": (
        MODEL + "search: {target_ratio: -0.1}\n",
        ["search.target_ratio = -0.1", "(0, 1]"],
    ),
    "one_selected": (MODEL + "search: {num_selected: 1}\n", ["search.num_selected = 1", ">= 2"]),
    "unknown_model": (
        "name: bad\nmodel: {name: resnet9}\n",
        ["model.name = 'resnet9'", "cifar_resnet56"],
    ),
    "unknown_method": (
        MODEL + "baselines: [{method: magnitude}]\n",
        ["baselines[0].method = 'magnitude'", "'fixed_ratio'", "'l1_global'", "'random_search'"],
    ),
    "npz_without_path": (MODEL + "data: {name: npz}\n", ["data.root", "required", "npz"]),
    "negative_epochs": (MODEL + "retrain: {epochs: -5}\n", ["retrain.epochs = -5", "> 0"]),
    "tau_order": (MODEL + "search: {tau_min: 5, tau_max: 1}\n", ["search.tau_min = 5", "tau_max"]),
    "loguniform_zero": (
        MODEL + "sweep: {space: {search.lambda_cost: {loguniform: [0, 4]}}}\n",
        ["sweep.space.search.lambda_cost.loguniform", "lo > 0"],
    ),
    "space_not_a_field": (
        MODEL + "sweep: {space: {search.lr: {uniform: [0.1, 0.2]}}}\n",
        ["sweep.space.search.lr", "not a field of search", "weight_lr"],
    ),
    "grid_with_uniform": (
        MODEL + "sweep: {algorithm: grid, space: {search.lambda_cost: {uniform: [1, 2]}}}\n",
        ["sweep.space.search.lambda_cost", "only choice"],
    ),
    "point_not_in_space": (
        MODEL + "sweep: {space: {search.lambda_cost: {uniform: [1, 2]}}, "
        "points_to_evaluate: [{search.lambda_cost: 1.5, search.tau_max: 5}]}\n",
        ["points_to_evaluate[0].search.tau_max", "not a key of space"],
    ),
    "teacher_zero_epochs": (MODEL + "teacher: {epochs: 0}\n", ["teacher.epochs = 0", "checkpoint"]),
    "yaml_syntax": (MODEL + "search: {epochs: [3\n", ["not valid YAML", "line"]),
    "empty_file": ("", ["empty"]),
    "keep_and_target": (
        MODEL + "baselines: [{method: fixed_ratio, keep_ratio: 0.5, target_ratio: 0.5}]\n",
        ["baselines[0].keep_ratio = 0.5", "not both"],
    ),
    "sweep_value_invalid": (
        MODEL + "sweep: {space: {search.num_selected: {choice: [1, 2]}}}\n",
        ["sweep.space.search.num_selected", "1 is invalid", ">= 2"],
    ),
    "not_a_mapping": ("- name: bad\n", ["must be a mapping", "list"]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_exits_2_with_one_line(case, tmp_path, capsys):
    text, words = MALFORMED[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"tasray: error: {path}: ")
    for word in words:
        assert word in lines[0]
    assert "Traceback" not in captured.err and captured.out == ""


def test_end_to_end_exit_status_and_no_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(MODEL + "search: {target_ratio: 1.5}\n")
    result = subprocess.run(
        [sys.executable, "-m", "tasray", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"tasray: error: {path}: search.target_ratio = 1.5: must be in (0, 1]"
    ]


def test_set_overrides_a_value(tmp_path, capsys):
    path = tmp_path / "ok.yaml"
    path.write_text(MODEL)
    assert main(["validate", str(path), "--set", "search.epochs=3", "--set", "name=renamed"]) == 0
    out = capsys.readouterr().out
    assert "3 epochs" in out and "renamed" in out


def test_bad_override_path_is_one_line(tmp_path, capsys):
    path = tmp_path / "ok.yaml"
    path.write_text(MODEL)
    assert main(["validate", str(path), "--set", "search.tau=3"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "tasray: error: --set search.tau: unknown key 'tau' in search; allowed: "
        + ", ".join(sorted(SearchConfig.model_fields))
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("{name: npz, root: missing.npz}", "/missing.npz': no such .npz file"),
        ("{name: imagenet, root: /no/imagenet}", "data.root = '/no/imagenet': no such directory"),
        ("{name: cifar10, root: /no/cifar}", "data.root = '/no/cifar': no such directory"),
    ],
)
def test_missing_data_is_reported(tmp_path, capsys, data, expected):
    path = tmp_path / "exp.yaml"
    path.write_text(MODEL + f"data: {data}\n")
    assert main(["validate", str(path)]) == 2
    assert expected in capsys.readouterr().err


def test_missing_teacher_checkpoint_is_reported(tmp_path, capsys):
    path = tmp_path / "exp.yaml"
    path.write_text(MODEL + "teacher: {checkpoint: /no/teacher.pt, epochs: 0}\n")
    assert main(["validate", str(path)]) == 2
    assert "teacher.checkpoint = '/no/teacher.pt': no such file" in capsys.readouterr().err


def test_cifar_with_download_needs_no_folder_yet(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(MODEL + "data: {name: cifar100, root: /no/cifar, download: true}\n")
    assert dry_run(load_experiment(path)).geometry == (3, (32, 32), 100)


def test_npz_data_sets_the_model_geometry(tmp_path, capsys):
    data = tmp_path / "faces.npz"
    labels = np.arange(6) % 3
    np.savez(
        data,
        x_train=np.zeros((6, 16, 16, 1), np.uint8),
        y_train=labels,
        x_test=np.zeros((2, 16, 16, 1), np.uint8),
        y_test=labels[:2],
    )
    path = tmp_path / "exp.yaml"
    path.write_text(MODEL + f"data: {{name: npz, root: {data}}}\n")
    summary = dry_run(load_experiment(path))
    assert summary.geometry == (1, (16, 16), 3)
    assert summary.flops == count_flops(ArchSpec.full("cifar_resnet20", 3, 1, (16, 16)))
    assert main(["validate", str(path)]) == 0
    assert "npz: 1×16×16, 3 classes" in capsys.readouterr().out


def test_trial_count_of_a_repeated_grid(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(
        MODEL + "sweep: {algorithm: grid, num_samples: 2, space: "
        "{search.variant: {choice: [tas, tas_w, tas_d]}}}\n"
        "baselines: [{method: fixed_ratio}, {method: random_search}]\n"
    )
    summary = dry_run(load_experiment(path))
    assert (summary.tas_trials, len(summary.baselines), summary.total_trials) == (6, 2, 8)


def test_validate_names_the_sampler_and_the_architecture_steps(tmp_path, capsys) -> None:
    assert main(["validate", "experiments/quickstart.yaml"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Optuna multi-objective TPE (top-1 ↑, each trial's cost" in out  # R and the cost swept
    assert "architecture steps │ 96 (8 epochs × 12 batches), Adam lr 0.312" in out
    fixed_r = ["--set", "sweep.space={search.lambda_cost: {loguniform: [0.5, 4.0]}}"]
    assert (
        main(["validate", "experiments/quickstart.yaml", *fixed_r, "--set", "sweep.points_to_evaluate=[]"])
        == 0
    )
    assert "hyperopt TPE (top-1 ↑)" in capsys.readouterr().out
