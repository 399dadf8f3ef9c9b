"""Exports of a pruned network in every format: the same logits as PyTorch, the data set's card inside."""

import json
import subprocess
import sys
import warnings
import zipfile

import pytest
import torch

from tasray.cli import main
from tasray.config import CONFIG_FILE, load_experiment, save_resolved
from tasray.data import load_data
from tasray.data.card import DataCard, data_card
from tasray.engine.pipeline import TRIALS
from tasray.io.export import DATA, MANIFEST, MARK, export, load_pruned, save_pruned
from tasray.io.export_check import load_export
from tasray.models import PrunedResNet
from tasray.spec.arch import ArchSpec


def pruned_digits_net() -> PrunedResNet:
    full = ArchSpec.full("cifar_resnet20", 10, 1, (8, 8))
    widths = [max(1, (w * (3 + i % 5)) // 8) for i, w in enumerate(full.widths)]
    net = PrunedResNet(ArchSpec("cifar_resnet20", widths, (2, 1, 3), 1, (8, 8), 10))
    for module in net.modules():  # trained-looking BatchNorm statistics, not the identity
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    return net.eval()


def embedded_manifest(path, fmt: str) -> dict:
    """The manifest read back with each format's own runtime (no tasray code involved)."""
    if fmt == "pt2":
        extra = {MARK: ""}
        torch.export.load(path, extra_files=extra)
        return json.loads(extra[MARK])
    if fmt == "onnx":
        session = pytest.importorskip("onnxruntime").InferenceSession(str(path))
        return json.loads(session.get_modelmeta().custom_metadata_map[MARK])
    if fmt == "torchscript":
        extra = {MARK: ""}
        with warnings.catch_warnings():  # TorchScript is deprecated upstream
            warnings.simplefilter("ignore", FutureWarning)
            torch.jit.load(str(path), _extra_files=extra)
        return json.loads(extra[MARK])
    manifest = json.loads((path / MANIFEST).read_text())
    assert DataCard.from_dict(json.loads((path / DATA).read_text())) == DataCard.from_dict(manifest)
    return manifest


@pytest.mark.parametrize(
    ("fmt", "suffix"), [("pt2", ".pt2"), ("onnx", ".onnx"), ("torchscript", ".ts"), ("state_dict", "")]
)
def test_every_format_computes_the_same_logits_and_embeds_the_data_card(
    tmp_path, fmt: str, suffix: str
) -> None:
    if fmt == "onnx":  # the tasray[onnx] extra
        pytest.importorskip("onnxscript")
        pytest.importorskip("onnxruntime")
    net, card = pruned_digits_net(), data_card("digits")
    path = export(net, card, fmt, tmp_path / f"net{suffix}")
    x = torch.randn(5, 1, 8, 8)  # the trace used batch 2: the batch axis is dynamic
    with torch.no_grad():
        torch.testing.assert_close(load_export(path, fmt)(x), net(x), rtol=1e-4, atol=1e-4)
    embedded = embedded_manifest(path, fmt)
    digits = load_data("digits").normalization
    assert (tuple(embedded["mean"]), tuple(embedded["std"])) == (digits.mean, digits.std)
    assert embedded["class_names"] == list("0123456789") and embedded["input_shape"] == [1, 8, 8]
    assert ArchSpec.from_dict(embedded["arch"]) == net.spec
    assert embedded["format"] == fmt and embedded["tasray_version"]


@pytest.mark.parametrize("fmt", ["pt2", "torchscript"])
def test_an_export_runs_without_tasray(tmp_path, fmt: str) -> None:
    net = pruned_digits_net()
    path = export(net, data_card("digits"), fmt, tmp_path / f"net.{fmt}")
    x = torch.randn(3, 1, 8, 8)
    torch.save(x, tmp_path / "x.pt")
    load = "torch.export.load({!r}).module()" if fmt == "pt2" else "torch.jit.load({!r})"
    script = (
        "import sys, torch\n"
        f"m = {load.format(str(path))}\n"
        f"torch.save(m(torch.load({str(tmp_path / 'x.pt')!r})), {str(tmp_path / 'y.pt')!r})\n"
        "assert 'tasray' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path)
    with torch.no_grad():
        torch.testing.assert_close(torch.load(tmp_path / "y.pt"), net(x))


def test_an_archive_is_named_after_its_file_not_a_temporary_one(tmp_path) -> None:
    for fmt, name in (("pt2", "pruned.pt2"), ("torchscript", "pruned.ts")):
        path = export(pruned_digits_net(), data_card("digits"), fmt, tmp_path / name)
        assert {entry.split("/")[0] for entry in zipfile.ZipFile(path).namelist()} == {"pruned"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pruned.pt2", "pruned.ts"]  # no temp left


def test_a_card_of_another_data_set_is_refused(tmp_path, capsys) -> None:
    cifar = DataCard("cifar10", (3, 32, 32), (0.5,) * 3, (0.25,) * 3, tuple("abcdefghij"))
    save_pruned(pruned_digits_net(), tmp_path / "trial", cifar)
    assert main(["export", str(tmp_path / "trial")]) == 2
    err = capsys.readouterr().err
    assert "cifar10 (3×32×32, 10 classes) does not fit the network (1×8×8, 10 classes)" in err
    assert err.count("\n") == 1 and not (tmp_path / "trial.pt2").exists()


def test_check_compares_and_times_in_one_line_each(tmp_path, capsys) -> None:
    save_pruned(pruned_digits_net(), tmp_path / "trial", data_card("digits"))
    assert main(["export", str(tmp_path / "trial"), "--check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"wrote {tmp_path / 'trial.pt2'}")
    assert "loaded with torch.export.load; logits within 0.0e+00 of PyTorch's (allowed" in lines[1]
    assert lines[2].startswith("check: latency, batch 8 on the CPU: pt2 ") and "PyTorch" in lines[2]
    assert len(lines) == 3


def test_a_mismatch_is_one_line_and_exit_status_1(tmp_path, capsys, monkeypatch) -> None:
    save_pruned(pruned_digits_net(), tmp_path / "trial", data_card("digits"))
    loaded = load_export  # a runtime that gets the logits wrong

    def off_by_one(path, fmt):
        forward = loaded(path, fmt)
        return lambda x: forward(x) + 1

    monkeypatch.setattr("tasray.io.export_check.load_export", off_by_one)
    assert main(["export", str(tmp_path / "trial"), "--format", "torchscript", "--check"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "check failed" in err and "logits within 1.0e+00 of PyTorch's" in err


def test_a_trial_from_before_data_cards_exports_with_its_experiments_data_set(tmp_path, capsys) -> None:
    exp = load_experiment("experiments/quickstart.yaml", [f"storage_path={tmp_path}"])
    save_resolved(exp, tmp_path / exp.name / CONFIG_FILE)
    old_trial = save_pruned(pruned_digits_net(), tmp_path / exp.name / TRIALS / "tas-0")  # no data.json
    assert main(["export", str(tmp_path / exp.name / "tas-0")]) == 0
    assert embedded_manifest(old_trial.with_name("tas-0.pt2"), "pt2")["mean"] == list(
        data_card("digits").mean
    )
    (tmp_path / exp.name / CONFIG_FILE).unlink()
    capsys.readouterr()
    assert main(["export", str(tmp_path / exp.name / "tas-0"), "--out", str(tmp_path / "x.pt2")]) == 2
    err = capsys.readouterr().err
    assert f"has no {DATA}" in err and CONFIG_FILE in err and err.count("\n") == 1


def test_a_saved_network_reloads_with_its_card(tmp_path) -> None:
    net = pruned_digits_net()
    folder = save_pruned(net, tmp_path / "saved", data_card("digits"))
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(load_pruned(folder)(x), net(x))
