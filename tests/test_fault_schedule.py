"""The fault bench's class stays until its faults have struck (``bench/faults.py``): on a slow
machine a late fault used to start after the students had gone home, and killed a replica that
held nobody (CI: "killed the replica holding 0 of 0 connections")."""

from __future__ import annotations

import time

from bench.faults import SETTLE_S, ClassEnd


def test_the_class_is_not_over_while_a_fault_is_still_to_come():
    end = ClassEnd(time.monotonic() - 5)  # the deadline has passed
    assert not end.over()  # but the faults have not all run


def test_the_class_draws_on_after_the_last_fault():
    end = ClassEnd(time.monotonic() - 5)
    end.faults_finished()
    assert not end.over()  # a settling time after the late fault
    assert end.deadline >= time.monotonic() + SETTLE_S - 1


def test_a_class_whose_faults_ran_in_time_ends_at_its_deadline():
    end = ClassEnd(time.monotonic() + 3600)
    end.faults_finished()
    assert end.deadline > time.monotonic() + 3000
    end.deadline = time.monotonic() - 0.01
    assert end.over()
