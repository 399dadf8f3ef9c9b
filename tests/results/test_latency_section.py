import pandas as pd
from result_records import record

from tasray.methods import method_label
from tasray.results.latency_section import latency_section

DEVICE = "cpu (AMD EPYC)"


def measured(trial: str, method: str, keep: float, predicted: float, measured_ms: float, spread: float):
    return record(
        trial,
        method,
        keep,
        80.0,
        latency_device=DEVICE,
        latency_batch=1,
        predicted_latency_ms=predicted,
        latency_ratio=keep,
        measured_latency_ms=measured_ms,
        measured_latency_ratio=keep + 0.01,
        measured_latency_b1_ms=measured_ms,
        measured_latency_b1_ratio=keep + 0.01,
        latency_spread=spread,
    ).to_row()


def cells_of(text: str) -> dict[str, list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return {cols[0]: cols[1:] for cols in ([c.strip() for c in line.split("|")[1:-1]] for line in lines[2:])}


def test_the_section_shows_the_figures_stored_in_every_row_with_their_device(tmp_path) -> None:
    rows = pd.DataFrame(
        [
            measured("tas-a", "tas", 0.5, 2.2, 2.0, 0.05),
            measured("fixed-a", "fixed_ratio", 0.6, 3.0, 3.3, 0.4),
            record("old", "fixed_ratio", 0.7, 70.0).to_row(),  # a row without latency (schema < 4)
        ]
    )
    text = latency_section(rows, tmp_path, "cifar10 · cifar_resnet20", "x")
    assert f"on {DEVICE}, batch 1" in text
    cells = cells_of(text)
    assert set(cells) == {f"{method_label('tas')} tas-a", f"{method_label('fixed_ratio')} fixed-a"}
    tas = cells[f"{method_label('tas')} tas-a"]
    assert tas[0] == "–" and tas[2:7] == ["0.500", "0.510", "2.2", "2", "+10.0%"] and tas[-1] == ""
    fixed = cells[f"{method_label('fixed_ratio')} fixed-a"]
    assert fixed[6] == "-9.1%" and fixed[-1] == "⚠"  # 3.0 / 3.3 − 1, and a spread over 10 %
    assert list(cells)[0].endswith("tas-a")  # ordered by latency ratio


def test_rows_without_latency_figures_say_so(tmp_path) -> None:
    rows = pd.DataFrame([record("old", "fixed_ratio", 0.7, 70.0).to_row()])
    assert "No row carries latency figures" in latency_section(rows, tmp_path, "t", "x")
