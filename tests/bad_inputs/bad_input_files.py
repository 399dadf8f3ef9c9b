"""Writers of the malformed files the bad-input corpus feeds to tasray, by name.

Each writer takes the folder to write into and returns nothing; a case names its writers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from tasray.config import load_experiment, teacher_key
from tasray.data.card import DataCard
from tasray.distributed.caches import known_trials, search_job
from tasray.distributed.sweep import sweep_journal
from tasray.engine.pipeline import TeacherCache
from tasray.engine.search_cache import SearchCache, search_key
from tasray.io.export import save_pruned
from tasray.models import PrunedResNet
from tasray.results.schema import HISTORY_TYPE, TrialRecord
from tasray.spec.arch import ArchSpec

Writer = Callable[[Path], None]
WRITERS: dict[str, Writer] = {}


def writer(name: str) -> Callable[[Writer], Writer]:
    def register(function: Writer) -> Writer:
        WRITERS[name] = function
        return function

    return register


def npz_arrays(**changes: np.ndarray) -> dict[str, np.ndarray]:
    """A valid 3-class 8×8 data set, with `changes` applied."""
    labels = np.arange(12) % 3
    arrays = {
        "x_train": np.zeros((12, 8, 8, 1), np.uint8),
        "y_train": labels,
        "x_test": np.zeros((6, 8, 8, 1), np.uint8),
        "y_test": labels[:6],
    }
    arrays.update(changes)
    return arrays


def _npz(name: str, **changes: np.ndarray) -> None:
    @writer(f"npz_{name}")
    def write(folder: Path) -> None:
        np.savez(folder / "data.npz", **npz_arrays(**changes))


_npz("float_images", x_train=np.zeros((12, 8, 8, 1), np.float32))
_npz("label_beyond_classes", y_test=np.array([0, 1, 2, 3, 1, 0]), classes=np.array(["a", "b", "c"]))
_npz("negative_test_label", y_test=np.array([0, 1, -1, 2, 1, 0]))
_npz("mismatched_shapes", x_test=np.zeros((6, 9, 9, 1), np.uint8))
_npz("fewer_labels", y_train=np.arange(11) % 3)
_npz("one_class", y_train=np.zeros(12, np.int64), y_test=np.zeros(6, np.int64))
_npz("empty_images", x_train=np.zeros((0, 8, 8, 1), np.uint8), y_train=np.zeros(0, np.int64))
_npz("float_labels", y_train=np.zeros(12, np.float32))
_npz("five_d_images", x_train=np.zeros((12, 8, 8, 1, 1), np.uint8))


@writer("npz_missing_key")
def _npz_missing_key(folder: Path) -> None:
    arrays = npz_arrays()
    del arrays["y_test"]
    np.savez(folder / "data.npz", **arrays)


@writer("npz_random_bytes")
def _npz_random_bytes(folder: Path) -> None:
    (folder / "data.npz").write_bytes(os.urandom(2048))


@writer("npz_good")
def _npz_good(folder: Path) -> None:
    np.savez(folder / "data.npz", **npz_arrays())


@writer("empty_folder")
def _empty_folder(folder: Path) -> None:
    (folder / "empty").mkdir()


@writer("imagenet_without_val")
def _imagenet_without_val(folder: Path) -> None:
    (folder / "imagenet" / "train" / "n01").mkdir(parents=True)


@writer("imagenet_other_classes")
def _imagenet_other_classes(folder: Path) -> None:
    (folder / "imagenet" / "train" / "n01").mkdir(parents=True)
    (folder / "imagenet" / "val" / "n02").mkdir(parents=True)


@writer("random_bytes")
def _random_bytes(folder: Path) -> None:
    (folder / "blob.bin").write_bytes(os.urandom(4096))


@writer("a_file")
def _a_file(folder: Path) -> None:
    (folder / "a_file").write_text("not a folder\n")


def _state(model: str, classes: int = 10, channels: int = 1, size: tuple[int, int] = (8, 8)) -> dict:
    return PrunedResNet(ArchSpec.full(model, classes, channels, size)).state_dict()


@writer("ckpt_other_model")
def _ckpt_other_model(folder: Path) -> None:
    torch.save(_state("cifar_resnet32"), folder / "teacher.pt")


@writer("ckpt_other_classes")
def _ckpt_other_classes(folder: Path) -> None:
    torch.save(_state("cifar_resnet20", classes=7), folder / "teacher.pt")


@writer("ckpt_list")
def _ckpt_list(folder: Path) -> None:
    torch.save([torch.zeros(3)], folder / "teacher.pt")


@writer("ckpt_random_bytes")
def _ckpt_random_bytes(folder: Path) -> None:
    (folder / "teacher.pt").write_bytes(os.urandom(4096))


@writer("ckpt_empty")
def _ckpt_empty(folder: Path) -> None:
    (folder / "teacher.pt").write_bytes(b"")


@writer("deep_yaml")
def _deep_yaml(folder: Path) -> None:
    (folder / "deep.yaml").write_text("name: x\nmodel: " + "[" * 20000 + "]" * 20000 + "\n")


@writer("deep_mapping_yaml")
def _deep_mapping_yaml(folder: Path) -> None:
    text = "".join(f"{' ' * i}k{i}:\n" for i in range(200)) + " " * 200 + "v\n"
    (folder / "deep.yaml").write_text(text)


@writer("alias_bomb_yaml")
def _alias_bomb_yaml(folder: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    (folder / "bomb.yaml").write_text("\n".join(lines) + "\nname: x\nmodel: {name: cifar_resnet20}\n")


@writer("recursive_alias_yaml")
def _recursive_alias_yaml(folder: Path) -> None:
    (folder / "loop.yaml").write_text("name: x\nmodel: &m {name: cifar_resnet20, again: *m}\n")


@writer("huge_yaml")
def _huge_yaml(folder: Path) -> None:
    filler = "".join(f"# {'x' * 90}\n" for _ in range(60_000))  # ~5.5 MB of comments
    (folder / "huge.yaml").write_text("name: x\nmodel: {name: cifar_resnet20}\n" + filler)


@writer("binary_yaml")
def _binary_yaml(folder: Path) -> None:
    (folder / "binary.yaml").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(512))


@writer("null_bytes_yaml")
def _null_bytes_yaml(folder: Path) -> None:
    (folder / "nul.yaml").write_text("name: x\x00\nmodel: {name: cifar_resnet20}\n")


@writer("arch_binary")
def _arch_binary(folder: Path) -> None:
    (folder / "arch.json").write_bytes(b"\xff\xfe\x00" + os.urandom(64))


@writer("arch_null_classes")
def _arch_null_classes(folder: Path) -> None:
    spec = ArchSpec.full("cifar_resnet20", 10, 3, (32, 32)).to_dict()
    spec["num_classes"] = None
    (folder / "arch.json").write_text(json.dumps(spec))


@writer("arch_too_wide")
def _arch_too_wide(folder: Path) -> None:
    spec = ArchSpec.full("cifar_resnet20", 10, 3, (32, 32)).to_dict()
    spec["widths"][0] = 999
    (folder / "arch.json").write_text(json.dumps(spec))


def _trial(folder: Path) -> Path:
    card = DataCard("digits", (1, 8, 8), (0.3,), (0.4,), tuple("0123456789"))
    return save_pruned(
        PrunedResNet(ArchSpec.full("cifar_resnet20", 10, 1, (8, 8))).eval(), folder / "trial", card
    )


@writer("trial")
def _good_trial(folder: Path) -> None:
    _trial(folder)


@writer("trial_corrupt_weights")
def _trial_corrupt_weights(folder: Path) -> None:
    (_trial(folder) / "model.pt").write_bytes(os.urandom(1024))


@writer("trial_other_arch")
def _trial_other_arch(folder: Path) -> None:
    torch.save(_state("cifar_resnet32"), _trial(folder) / "model.pt")


@writer("trial_binary_arch")
def _trial_binary_arch(folder: Path) -> None:
    (_trial(folder) / "arch.json").write_bytes(os.urandom(256))


@writer("trial_without_card")
def _trial_without_card(folder: Path) -> None:
    (_trial(folder) / "data.json").unlink()  # as written before data cards, outside an experiment


@writer("trial_binary_card")
def _trial_binary_card(folder: Path) -> None:
    (_trial(folder) / "data.json").write_bytes(b"\xff\xfe" + os.urandom(64))


@writer("existing_out_file")
def _existing_out_file(folder: Path) -> None:
    (folder / "precious.ts").write_text("my own file\n")


@writer("results_random_parquet")
def _results_random_parquet(folder: Path) -> None:
    (folder / "results" / "run").mkdir(parents=True)
    (folder / "results" / "run" / "t.parquet").write_bytes(os.urandom(512))


@writer("results_empty")
def _results_empty(folder: Path) -> None:
    (folder / "results").mkdir()


@writer("results_csv")
def _results_csv(folder: Path) -> None:
    (folder / "results.csv").write_text("a,b\n1,2\n")


@writer("list_yaml")
def _list_yaml(folder: Path) -> None:
    (folder / "list.yaml").write_text("- name: x\n- model: {name: cifar_resnet20}\n")


# Results files that other tools could have written: one valid row with one column changed.
def _results_row_table() -> pa.Table:
    spec = ArchSpec.full("cifar_resnet20", 10, 3, (32, 32))
    fields = dict(experiment_id="run", trial_id="t0", method="tas", transfer="kd", data_set="cifar10")
    return TrialRecord.from_arch(spec, seed=0, top1=91.0, **fields).to_table()


def _results_with(name: str, column: str, array: pa.Array, file_name: bytes = b"t0.parquet") -> None:
    @writer(f"results_{name}")
    def write(folder: Path) -> None:
        table = _results_row_table()
        index = table.schema.get_field_index(column)
        table = table.set_column(index, pa.field(column, array.type), array)
        (folder / "results" / "run").mkdir(parents=True)
        with open(os.path.join(os.fsencode(folder / "results" / "run"), file_name), "wb") as stream:
            pq.write_table(table, stream)


_results_with("top1_list", "top1", pa.array([[91.0, 92.0]]))
_results_with("history_text", "search_history", pa.array(["epoch 0: 0.5"]))
_results_with("null_flop_ratio", "flop_ratio", pa.array([None], pa.float64()))
_results_with("null_data_set", "data_set", pa.array([None], pa.string()))
_results_with("nan_top1", "top1", pa.array([float("nan")]))
_results_with("inf_flop_ratio", "flop_ratio", pa.array([float("inf")]))
_results_with("text_top1", "top1", pa.array(["ninety"]))
_results_with("text_started_at", "started_at", pa.array(["yesterday"]))
_results_with("broken_arch", "arch", pa.array(['{"model": "cifar_resnet20", "widths": [16.7']))
_results_with("history_null_entry", "search_history", pa.array([[None]], pa.list_(HISTORY_TYPE)))
_results_with("non_utf8_name_nan", "top1", pa.array([float("nan")]), file_name=b"\xff\xfe-t0.parquet")


@writer("results_symlink_loop")
def _results_symlink_loop(folder: Path) -> None:
    _results_with_valid(folder)
    (folder / "results" / "run" / "again").symlink_to("..")


def _results_with_valid(folder: Path) -> None:
    (folder / "results" / "run").mkdir(parents=True)
    pq.write_table(_results_row_table(), folder / "results" / "run" / "t0.parquet")


# Caches and the sweep journal of the case's experiment (exp.yaml is written before these run).
def _experiment(folder: Path):
    return load_experiment(folder / "exp.yaml")


def _put(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Path(path).write_bytes(data)


@writer("teacher_damaged")
def _teacher_damaged(folder: Path) -> None:
    exp = _experiment(folder)
    _put(TeacherCache(exp.storage_path).file(teacher_key(exp)), os.urandom(512))


@writer("teacher_not_a_teacher")
def _teacher_not_a_teacher(folder: Path) -> None:
    exp = _experiment(folder)
    path = TeacherCache(exp.storage_path).file(teacher_key(exp))
    _put(path, b"")
    torch.save({"spec": "not a spec"}, path)


@writer("teacher_is_a_folder")
def _teacher_is_a_folder(folder: Path) -> None:
    exp = _experiment(folder)
    os.makedirs(TeacherCache(exp.storage_path).file(teacher_key(exp)))


@writer("teacher_denied")
def _teacher_denied(folder: Path) -> None:
    exp = _experiment(folder)
    path = TeacherCache(exp.storage_path).file(teacher_key(exp))
    os.makedirs(os.path.dirname(path))
    os.symlink(UNREADABLE, path)


UNREADABLE = "/proc/1/mem"
"""A file that even root may not open (reading another process's memory needs ptrace rights)."""


@writer("search_damaged_last_grid_point")
def _search_damaged(folder: Path) -> None:
    exp = _experiment(folder)
    last = known_trials(exp)[-1]
    _put(SearchCache(exp.storage_path).file(search_key(search_job(last))), os.urandom(512))


def _journal(name: str, data: bytes) -> None:
    @writer(f"journal_{name}")
    def write(folder: Path) -> None:
        _put(sweep_journal(_experiment(folder)).path, data)


_journal("truncated", b'[{"search.target_ratio": 0.5}, {"search.target_ra')
_journal("mapping", b'{"search.target_ratio": 0.5}')
_journal("binary", b"\xff\xfe\x00" + bytes(range(256)))
_journal("out_of_range", b'[{"search.target_ratio": 7}]')
_journal("unknown_path", b'[{"search.nope": 0.5}]')


@writer("experiment_folder_a_file")
def _experiment_folder_a_file(folder: Path) -> None:
    _put(os.path.join(_experiment(folder).storage_path, "bad"), b"not a folder\n")


@writer("symlink_loop")
def _symlink_loop(folder: Path) -> None:
    (folder / "loop1").symlink_to("loop2")
    (folder / "loop2").symlink_to("loop1")


@writer("dangling_symlink")
def _dangling_symlink(folder: Path) -> None:
    (folder / "dangling").symlink_to(folder / "no" / "such" / "folder")


def _arch_text(name: str, text: str) -> None:
    @writer(f"arch_{name}")
    def write(folder: Path) -> None:
        (folder / "arch.json").write_text(text)


_FULL = ArchSpec.full("cifar_resnet20", 10, 3, (32, 32)).to_json()
_arch_text("infinity", _FULL.replace('"num_classes": 10', '"num_classes": Infinity'))
_arch_text("huge_int", _FULL.replace('"num_classes": 10', '"num_classes": ' + "9" * 400))
_arch_text("float_classes", _FULL.replace('"num_classes": 10', '"num_classes": 1e300'))
_arch_text("bool_channels", _FULL.replace('"in_channels": 3', '"in_channels": true'))
_arch_text("fractional_width", _FULL.replace("[16,", "[16.7,", 1))
_arch_text("text_width", _FULL.replace("[16,", '["16",', 1))
_arch_text("nan_size", _FULL.replace('"input_size": [32, 32]', '"input_size": [32, NaN]'))
_arch_text("list_model", _FULL.replace('"model": "cifar_resnet20"', '"model": ["cifar_resnet20"]'))


@writer("trial_infinite_arch")
def _trial_infinite_arch(folder: Path) -> None:
    path = _trial(folder) / "arch.json"
    path.write_text(path.read_text().replace('"num_classes": 10', '"num_classes": Infinity'))
