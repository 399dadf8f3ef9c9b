"""How well `init` transfer starts: the pruned network's top-1 straight after copying the teacher's
kept filters, before any retraining, for fixed-ratio ResNet-20s on digits.

A pruned network whose residual additions sum different teacher channels starts near chance; one
kept index set per residual stream keeps the teacher's features aligned. The script trains (or
reads from its cache) one digits teacher, then prints, for each kept fraction, the top-1 of the
`init` network and how many identity additions of it carry different teacher channels.

    python bench/init_transfer.py [--keep 0.9 0.75] [--teacher-epochs 10] [--storage DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from baselines.fixed_ratio import uniform_spec
from tasray.config import Experiment
from tasray.engine.jobs import dataset
from tasray.engine.pipeline import get_teacher
from tasray.engine.runner import LocalRunner
from tasray.models.factory import build_network
from tasray.spec.arch import ArchSpec
from tasray.stages.metrics import evaluate
from tasray.stages.transfer import L1Norm, inherit_weights, select_channels


def misaligned_additions(spec: ArchSpec, kept: list[list[int]]) -> tuple[int, int]:
    """(identity additions whose two sides keep different teacher channels, identity additions)."""
    family, bad, total = spec.family, 0, 0
    source = 0
    for stage, depth in enumerate(spec.depths):
        for block in range(depth):
            out = family.conv_index(stage, block, len(family.block_kernels) - 1)
            same_width = spec.widths[source] == spec.widths[out]
            identity = same_width and not family.source_has_projection(stage, block)
            if identity:
                total += 1
                bad += kept[source] != kept[out]
            source = out
    return bad, total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", type=float, nargs="+", default=[0.9, 0.75])
    parser.add_argument("--teacher-epochs", type=int, default=10)
    parser.add_argument("--storage", type=Path, default=Path("/tmp/tasray-init-bench"))
    args = parser.parse_args()
    exp = Experiment.model_validate(
        {
            "name": "init-transfer",
            "storage_path": str(args.storage),
            "data": {"name": "digits", "batch_size": 64},
            "model": {"name": "cifar_resnet20"},
            "teacher": {"epochs": args.teacher_epochs},
        }
    )
    teacher = get_teacher(exp, LocalRunner(progress=False))
    test = dataset(exp.data, "test", exp.seed)
    device = torch.device("cpu")
    print(f"teacher: top-1 {teacher.top1:.2f} %")
    for keep in args.keep:
        spec = uniform_spec(teacher.spec, keep)
        kept = select_channels(teacher.model, spec, L1Norm())
        student = build_network(spec)
        inherit_weights(student, teacher.model, kept)
        top1 = evaluate(student.eval(), test, 512, device)["top1"]
        bad, total = misaligned_additions(spec, kept)
        print(f"keep {keep:g}: init top-1 {top1:.2f} %, {bad} of {total} identity additions misaligned")


if __name__ == "__main__":
    main()
