"""The database's circuit breaker, on a clock the test moves."""

from __future__ import annotations

import threading

from mnist_viz.classroom.breaker import Breaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_closed_admits_everyone() -> None:
    breaker = Breaker(retry_s=10, clock=Clock())
    assert all(breaker.admit() for _ in range(5))
    assert not breaker.is_open


def test_a_failure_refuses_everyone_until_the_retry() -> None:
    clock = Clock()
    breaker = Breaker(retry_s=10, clock=clock)
    breaker.failed("no answer")
    assert breaker.is_open and breaker.last_failure == "no answer"
    assert not breaker.admit()
    assert breaker.retry_in() == 10
    clock.now += 9.9
    assert not breaker.admit()


def test_after_the_retry_one_caller_tries_and_the_others_are_still_refused() -> None:
    clock = Clock()
    breaker = Breaker(retry_s=10, clock=clock)
    breaker.failed("no answer")
    clock.now += 10
    assert breaker.admit()  # the trial
    assert not breaker.admit()  # everyone else, while it tries
    breaker.succeeded()
    assert not breaker.is_open and breaker.admit()


def test_a_failed_trial_opens_it_for_another_period() -> None:
    clock = Clock()
    breaker = Breaker(retry_s=10, clock=clock)
    breaker.failed("no answer")
    clock.now += 10
    assert breaker.admit()
    breaker.failed("still no answer")
    assert not breaker.admit()
    clock.now += 10
    assert breaker.admit()


def test_a_trial_that_ends_without_a_verdict_frees_the_next_caller() -> None:
    clock = Clock()
    breaker = Breaker(retry_s=10, clock=clock)
    breaker.failed("no answer")
    clock.now += 10
    assert breaker.admit()
    breaker.end_trial()
    assert breaker.is_open
    assert breaker.admit()  # the next caller tries


def test_only_the_trial_thread_can_end_its_trial() -> None:
    clock = Clock()
    breaker = Breaker(retry_s=10, clock=clock)
    breaker.failed("no answer")
    clock.now += 10
    assert breaker.admit()
    other = threading.Thread(target=breaker.end_trial)
    other.start()
    other.join()
    assert not breaker.admit()  # still this thread's trial
