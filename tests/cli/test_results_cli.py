from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest

from tasray.cli import main
from tasray.results.schema import TrialRecord
from tasray.results.store import ResultsStore
from tasray.spec.arch import ArchSpec


def _record(trial_id: str, method: str, keep: float, top1: float) -> TrialRecord:
    full = ArchSpec.full("cifar_resnet20", 10)
    arch = replace(full, widths=tuple(max(1, round(w * keep)) for w in full.widths))
    return TrialRecord.from_arch(
        arch,
        experiment_id="run-1",
        trial_id=trial_id,
        method=method,
        transfer="kd",
        data_set="cifar10",
        seed=0,
        top1=top1,
        teacher_top1=92.5,
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    results = ResultsStore(tmp_path / "results")
    results.append(_record("base", "unpruned", 1.0, 92.5))
    results.append(_record("tas-0", "tas", 0.7, 92.0))
    results.append(_record("fixed-0", "fixed_ratio", 0.7, 90.5))
    return tmp_path / "results"


def test_leaderboard_prints_a_rich_table(store: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["leaderboard", str(store)]) == 0
    out = capsys.readouterr().out
    assert "cifar10 · cifar_resnet20" in out
    assert out.index("tas-0") < out.index("fixed-0")


def test_leaderboard_markdown_and_csv(store: Path, capsys) -> None:
    assert main(["leaderboard", str(store), "--format", "markdown", "--sort", "flops"]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("### cifar10 · cifar_resnet20\n")
    assert markdown.count("| kd |") == 3
    assert main(["leaderboard", str(store), "--format", "csv", "--data-set", "cifar10"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["trial_id"] for r in rows] == ["base", "tas-0", "fixed-0"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--sort", "speed"], "unknown sort column 'speed'; allowed: top1, drop, flops, params"),
        (["--format", "html"], "unknown format 'html'; allowed: table, markdown, csv"),
        (["--data-set", "imagenet"], "no results for data set 'imagenet'; present: cifar10"),
    ],
)
def test_leaderboard_bad_flags_exit_2_with_one_line(store: Path, capsys, flags, message) -> None:
    assert main(["leaderboard", str(store), *flags]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("tasray: error: ") and message in captured.err
    assert captured.err.count("\n") == 1 and captured.out == ""


def test_leaderboard_on_missing_store_and_on_a_non_store(tmp_path: Path, capsys) -> None:
    assert main(["leaderboard", str(tmp_path / "missing")]) == 2
    assert "no such results folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["leaderboard", str(tmp_path / "empty")]) == 0
    assert "No results under" in capsys.readouterr().out
    (tmp_path / "notes.txt").write_text("not parquet")
    assert main(["leaderboard", str(tmp_path / "notes.txt")]) == 2
    assert "not a results store" in capsys.readouterr().err


def test_report_writes_markdown_and_pngs(store: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report"
    assert main(["report", str(store), "--out", str(out)]) == 0
    assert f"wrote {out / 'report.md'}" in capsys.readouterr().out
    assert "## Measured vs. published" in (out / "report.md").read_text()
    # no search history was recorded, so no trajectory figure
    assert sorted(p.name.split("-")[0] for p in out.glob("*.png")) == [
        "accuracy_vs_flops",
        "arch_widths",
        "sweep",
    ]


def test_report_on_empty_store_exits_2_and_writes_nothing(tmp_path: Path, capsys) -> None:
    assert main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "report")]) == 2
    assert "no results under" in capsys.readouterr().err
    assert not (tmp_path / "report").exists()
