import pytest
import torch

from tasray.cli import main
from tasray.data.card import DataCard
from tasray.io.export import save_pruned
from tasray.models import PrunedResNet
from tasray.spec.arch import ArchSpec

DIGITS_LIKE = DataCard("digits", (1, 8, 8), (0.3,), (0.4,), tuple("0123456789"))


@pytest.fixture
def trial_dir(tmp_path):
    spec = ArchSpec.full("cifar_resnet20", 10, 1, (8, 8))
    return save_pruned(PrunedResNet(spec).eval(), tmp_path / "run" / "tas-0", DIGITS_LIKE)


def test_export_writes_an_exported_program_beside_the_trial_by_default(trial_dir, capsys) -> None:
    assert main(["export", str(trial_dir)]) == 0
    assert f"wrote {trial_dir.with_name('tas-0.pt2')}" in capsys.readouterr().out
    assert torch.export.load(trial_dir.with_name("tas-0.pt2")).module()(torch.randn(2, 1, 8, 8)).shape == (
        2,
        10,
    )


def test_help_names_the_default_format(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "(default: pt2, a torch.export ExportedProgram)" in " ".join(capsys.readouterr().out.split())


def test_a_state_dict_export_reloads_with_its_card(trial_dir, capsys) -> None:
    out = trial_dir.parent / "out"
    assert main(["export", str(trial_dir), "--format", "state_dict", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"arch.json", "model.pt", "data.json", ".tasray-export.json"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["export", "{trial}", "--format", "tflite"],
            "--format 'tflite'; allowed: pt2, onnx, torchscript, state_dict",
        ),
        (["export", "/nonexistent/trial"], "is not a saved pruned network: expected arch.json and model.pt"),
        (["flops", "resnet7"], "unknown model 'resnet7'; known: "),
        (["flops", "cifar_resnet20", "--input-size", "0"], "--input-size takes one or two positive integers"),
        (["flops", "cifar_resnet20", "--latency", "--batch", "0"], "--batch and --rounds must be >= 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(trial_dir, args, message: str, capsys) -> None:
    assert main([a.format(trial=trial_dir) for a in args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_flops_reports_the_paper_count(capsys) -> None:
    assert main(["flops", "cifar_resnet56"]) == 0
    assert "125.75 M" in capsys.readouterr().out


def test_flops_of_a_pruned_arch_file(tmp_path, capsys) -> None:
    full = ArchSpec.full("cifar_resnet20", 10, 3, (32, 32))
    pruned = ArchSpec("cifar_resnet20", [max(1, w // 2) for w in full.widths], (3, 3, 3), 3, (32, 32), 10)
    pruned.save(tmp_path / "arch.json")
    assert main(["flops", str(tmp_path / "arch.json")]) == 0
    out = capsys.readouterr().out
    assert "FLOP ratio vs unpruned" in out and "25.3%" in out


@pytest.mark.parametrize("fmt", ["pt2", "torchscript", "onnx", "state_dict"])
def test_export_replaces_only_its_own_output(trial_dir, fmt: str, tmp_path, capsys) -> None:
    if fmt == "onnx":
        pytest.importorskip("onnxscript")
    out = tmp_path / f"net-{fmt}"
    assert main(["export", str(trial_dir), "--format", fmt, "--out", str(out)]) == 0
    assert main(["export", str(trial_dir), "--format", fmt, "--out", str(out)]) == 0  # its own: replaced
    foreign = tmp_path / f"mine-{fmt}"
    if fmt == "state_dict":
        (foreign / "notes").mkdir(parents=True)
    else:
        foreign.write_text("mine")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    capsys.readouterr()
    assert main(["export", str(trial_dir), "--format", fmt, "--out", str(foreign)]) == 2
    assert "is not an earlier tasray" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written, nothing deleted
    other = {"pt2": "torchscript", "torchscript": "pt2"}.get(fmt, "pt2")  # pt2 and TorchScript: both zips
    assert main(["export", str(trial_dir), "--format", other, "--out", str(out)]) == 2  # another format's


def test_flops_measures_latency_beside_the_flops(tmp_path, capsys) -> None:
    full = ArchSpec.full("cifar_resnet20", 10, 3, (32, 32))
    quarter = ArchSpec("cifar_resnet20", [max(1, w // 4) for w in full.widths], (1, 1, 1), 3, (32, 32), 10)
    quarter.save(tmp_path / "arch.json")
    assert main(["flops", str(tmp_path / "arch.json"), "--latency", "--batch", "16", "--rounds", "3"]) == 0
    out = capsys.readouterr().out
    cells = [line.split("│")[1:3] for line in out.splitlines() if "│" in line]
    rows = {name.strip(): value.strip() for name, value in cells}
    for batch in (1, 16):  # the protocol's figure, its median and IQR, and how many runs
        assert rows[f"latency, batch {batch}, cpu, cpu time"].endswith("over 3 runs)")
    assert float(rows["latency ratio vs unpruned, batch 16"].rstrip("%")) > 0  # speed: bench/latency.py
