"""Heartbeat lines for a log file: bounded rate, epoch k/n, elapsed and ETA."""

from clocks import Clock

from tasray.distributed.heartbeat import Heartbeat, duration


def test_heartbeats_come_at_most_every_so_often_with_elapsed_and_eta():
    clock = Clock(100.0)
    beat = Heartbeat(every=30.0, clock=clock)
    assert beat.line("tas-000 · search", 1, 8) is None  # the first event starts the clock
    clock.now += 20.0
    assert beat.line("tas-000 · search", 2, 8) is None  # within 30 s of the start
    clock.now += 20.0
    expected = "  tas-000 · search: epoch 3 of 8, 40 s elapsed, ETA 1 min 40 s"
    assert beat.line("tas-000 · search", 3, 8) == expected
    assert beat.line("teacher · teacher", 1, 3) is None  # each stage has its own clock
    clock.now += 10.0
    assert beat.line("tas-000 · search", 4, 8) is None  # 10 s after the last line
    clock.now += 400.0
    assert beat.line("tas-000 · search", 5, 8).endswith("epoch 5 of 8, 7 min 30 s elapsed, ETA 5 min 38 s")
    assert beat.line("tas-000 · search", 8, 8) is None  # the stage's own end line says it is done


def test_a_stage_resumed_late_estimates_from_the_epochs_run_here():
    clock = Clock(100.0)
    beat = Heartbeat(every=1.0, clock=clock)
    assert beat.line("s", 6, 10) is None  # six epochs done in an earlier run
    clock.now += 3600.0
    assert beat.line("s", 7, 10) == "  s: epoch 7 of 10, 1 h 00 min elapsed, ETA 3 h 00 min"
    assert duration(59.4) == "59 s" and duration(61) == "1 min 01 s"
