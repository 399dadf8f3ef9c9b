"""The latency measurement protocol: warm-up excluded, interleaved rounds, one thread timed by its
CPU time on a shared CPU, the spread judged on the interquartile range. Nothing here asserts a
speed: the slow call below is CPU work of a known size that the protocol must leave out."""

import time

import pytest
import torch

from tasray.costs.timing import MAX_SPREAD, Timing, TimingProtocol, interleaved_times, time_runs


def spin(seconds: float) -> None:
    """Busy CPU work for `seconds` of this thread's CPU time (a sleep would not count on its clock)."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def slow_first_call() -> list:
    calls = []

    def run() -> None:
        if not calls:
            spin(0.05)
        calls.append(1)

    return run


@pytest.mark.parametrize("clock", ["cpu", "wall"])
def test_a_slow_first_call_does_not_move_the_median(clock: str) -> None:
    timing = time_runs([slow_first_call()], TimingProtocol(clock=clock, warmup=1, rounds=9))[0]
    assert len(timing.samples) == 9 and max(timing.samples) < 0.01 and timing.median < 0.01
    unprotected = time_runs([slow_first_call()], TimingProtocol(clock=clock, warmup=0, rounds=9))[0]
    assert max(unprotected.samples) >= 0.04  # without the warm-up round it would have counted


def test_rounds_interleave_the_runs_and_the_cpu_clock_times_one_thread() -> None:
    order, threads = [], []
    runs = [lambda name=name: (order.append(name), threads.append(torch.get_num_threads())) for name in "ab"]
    before = torch.get_num_threads()
    time_runs(runs, TimingProtocol(clock="cpu", warmup=1, rounds=3))
    assert order == list("ab" * 4) and set(threads) == {1}
    assert torch.get_num_threads() == before


def test_the_timers_own_cost_is_taken_off() -> None:
    empty, work = time_runs([lambda: None, lambda: spin(0.002)], TimingProtocol(rounds=20))
    assert empty.best == pytest.approx(0.0, abs=2e-5) and work.best >= 0.0019


def test_the_spread_is_the_interquartile_range_over_the_median() -> None:
    steady = Timing((1.0, 1.0, 1.01, 1.0, 0.99, 1.0, 1.0, 1.02))
    busy = Timing((1.0, 1.6, 1.3, 2.0, 1.1, 1.7, 1.2, 1.9))
    assert steady.best == 0.99 and steady.trusted and steady.spread < MAX_SPREAD
    assert busy.best == 1.0 and not busy.trusted and busy.spread > MAX_SPREAD
    assert "over 8 runs" in busy.describe()


def test_the_cpu_clock_refuses_a_gpu() -> None:
    with pytest.raises(ValueError, match="clock 'cpu' times CPU work"):
        interleaved_times([lambda: None], torch.device("meta"), clock="cpu")
