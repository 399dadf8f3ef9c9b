"""Warnings about a teacher at chance or diverging, and an architecture rate the search cannot use."""

from __future__ import annotations

import math

import pytest

from tasray.config import load_experiment, teacher_key
from tasray.data import make_loader
from tasray.engine.health import (
    MAX_ARCH_RATE,
    arch_rate_warning,
    run_warnings,
    search_steps,
    teacher_warnings,
)
from tasray.engine.jobs import dataset
from tasray.engine.pipeline import TeacherCache, get_teacher
from tasray.engine.runner import LocalRunner
from tasray.engine.settings import search_settings


def quickstart(tmp_path, *overrides: str):
    return load_experiment("experiments/quickstart.yaml", [f"storage_path={tmp_path}", *overrides])


def test_a_teacher_at_chance_or_diverging_is_named_a_healthy_one_is_not() -> None:
    assert teacher_warnings(91.0, 10, [1.9, 0.8, 0.4]) == []
    (chance,) = teacher_warnings(12.5, 10, [2.3, 2.3])
    assert "at chance (10.00% for 10 classes)" in chance and "\n" not in chance
    assert teacher_warnings(4.0, 1000, [7.0, 6.0])  # 0.1% chance: 4% is still within 5 points
    assert "not finite" in teacher_warnings(60.0, 10, [1.0, math.nan])[0]
    assert "rose from 1 to 3" in teacher_warnings(60.0, 10, [1.0, 2.0, 3.0])[0]


def test_a_teacher_trained_without_learning_is_flagged_at_chance(tmp_path) -> None:
    exp = quickstart(tmp_path, "teacher.epochs=1", "teacher.lr=1e-9")
    teacher = get_teacher(exp, LocalRunner(progress=False))
    assert len(teacher.losses) == 1
    assert TeacherCache(exp.storage_path).load(teacher_key(exp)).losses == teacher.losses  # cached too
    warnings = run_warnings(exp, teacher)
    assert any("at chance" in w for w in warnings), (teacher.top1, warnings)


def test_the_search_steps_are_the_stages_and_a_one_step_saturating_rate_is_flagged(tmp_path) -> None:
    exp = quickstart(tmp_path)
    loader = make_loader(dataset(exp.data, "search_train", exp.seed), exp.data.batch_size, shuffle=True)
    steps = search_steps(exp)
    assert steps == exp.search.epochs * len(loader)
    assert search_settings(exp.search).arch.rate(steps) < MAX_ARCH_RATE  # the quickstart is fine
    assert arch_rate_warning(search_settings(exp.search).arch.rate(steps), steps) is None

    fast = quickstart(tmp_path, "search.arch_travel=2000")
    rate = search_settings(fast.search).arch.rate(search_steps(fast))
    assert rate == pytest.approx(2000 / steps)
    warning = arch_rate_warning(rate, steps)
    assert warning is not None and "99 times as likely" in warning and "search.arch_travel" in warning
    assert arch_rate_warning(MAX_ARCH_RATE, steps) is None and arch_rate_warning(MAX_ARCH_RATE * 1.01, steps)
