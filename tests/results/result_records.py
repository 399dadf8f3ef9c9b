"""Real results rows for the tests: FLOPs and params come from the analytic counter."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from tasray.costs.flops import flop_ratio
from tasray.results.schema import TrialRecord
from tasray.spec.arch import ArchSpec


def slim(model: str, keep: float, num_classes: int = 10, depths: tuple[int, ...] | None = None):
    """`model` with every conv keeping a `keep` share of its channels, optionally fewer blocks."""
    full = ArchSpec.full(model, num_classes)
    widths = tuple(max(1, round(w * keep)) for w in full.widths)
    return replace(full, widths=widths, depths=depths or full.depths)


def history(epochs: int, start_ratio: float = 1.0, end_ratio: float = 0.5) -> list[dict]:
    """A plausible search history: the derived arch shrinks and grows more confident."""
    full = 40_813_184.0
    rows = []
    for epoch in range(epochs):
        ratio = start_ratio + (end_ratio - start_ratio) * epoch / max(1, epochs - 1)
        rows.append(
            dict(
                epoch=epoch,
                flops=ratio * full,
                flop_ratio=ratio,
                expected_flops=(ratio + 0.05) * full,
                discrepancy=0.1 + 0.05 * epoch,
                val_top1=50.0 + 4 * epoch,
                tau=10.0 - epoch,
            )
        )
    return rows


def record(
    trial_id: str,
    method: str = "tas",
    keep: float = 0.7,
    top1: float = 91.0,
    *,
    experiment_id: str = "exp-a",
    data_set: str = "cifar10",
    model: str = "cifar_resnet20",
    **extra,
) -> TrialRecord:
    """A real record: FLOPs and params come from the analytic counter of a slimmed ArchSpec."""
    arch = extra.pop("arch", None) or slim(model, keep, 100 if data_set == "cifar100" else 10)
    searched = method.startswith("tas")
    defaults = dict(
        transfer="kd",
        seed=0,
        teacher_top1=92.5,
        top5=99.0,
        target_ratio=flop_ratio(arch) if searched else None,  # in band unless a test says otherwise
        lambda_cost=2.0 if searched else None,
        num_selected=3 if searched else None,
        tolerance=0.05 if searched else None,
        search_history=history(4, 1.0, keep**2) if searched else [],
        search_seconds=12.5 if searched else None,
        train_seconds=30.0,
        started_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        finished_at=datetime(2026, 1, 1, 0, 5, tzinfo=timezone.utc),
        host="node-1",
        tasray_version="0.1.0",
        config_hash="abc123",
    )
    defaults.update(extra)
    return TrialRecord.from_arch(
        arch,
        experiment_id=experiment_id,
        trial_id=trial_id,
        method=method,
        data_set=data_set,
        top1=top1,
        **defaults,
    )
