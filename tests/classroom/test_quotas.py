"""Quotas (``mnist_viz.classroom.quotas``) on both back-ends: each limit refuses with a sentence
once reached, counts only what it names, and frees up when its minute has passed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mnist_viz.classroom import quotas
from mnist_viz.classroom.classwork import ClassWork
from mnist_viz.classroom.records import ClassError, QuotaExceeded


def digit() -> np.ndarray:
    image = np.zeros((28, 28), np.float32)
    image[4:24, 12:15] = 1.0
    return image


def test_new_drawings_per_minute_and_in_total(store, monkeypatch):
    monkeypatch.setattr(quotas, "DRAWINGS_PER_MINUTE", 3)
    monkeypatch.setattr(quotas, "DRAWINGS_PER_STUDENT", 5)
    work = ClassWork(store)
    ada, _ = work.join("ada")
    bob, _ = work.join("bob")
    first = [work.save_drawing(ada.id, digit(), 1, 0.9, "sha") for _ in range(3)]
    with pytest.raises(QuotaExceeded, match="3 new drawings in a minute"):
        work.save_drawing(ada.id, digit(), 1, 0.9, "sha")
    assert work.save_drawing(ada.id, digit(), 2, 0.9, "sha", drawing_id=first[-1]) == first[-1]
    work.save_drawing(bob.id, digit(), 1, 0.9, "sha")  # another student is not held back
    store.execute("UPDATE drawings SET created = created - 61 WHERE student_id = ?", (ada.id,))
    work.save_drawing(ada.id, digit(), 1, 0.9, "sha")  # a minute later: saving again
    work.save_drawing(ada.id, digit(), 1, 0.9, "sha")
    store.execute("UPDATE drawings SET created = created - 61 WHERE student_id = ?", (ada.id,))
    with pytest.raises(QuotaExceeded, match="5 drawings, as many as a student may keep"):
        work.save_drawing(ada.id, digit(), 1, 0.9, "sha")
    assert work.count_student_drawings(ada.id) == 5


def test_students_per_class(store, monkeypatch):
    monkeypatch.setattr(quotas, "STUDENTS_PER_CLASS", 2)
    work = ClassWork(store)
    work.join("ada")
    work.join("bob")
    with pytest.raises(QuotaExceeded, match="the class is full"):
        work.join("cy")
    ClassWork(store, "other").join("cy")  # another class has its own room


def test_joins_per_address_per_minute(store, monkeypatch):
    monkeypatch.setattr(quotas, "JOINS", quotas.JoinsPerAddress(limit=2))
    work = ClassWork(store)
    work.join("ada", "10.0.0.7")
    for _ in range(5):  # refused joins (a nickname taken) cost the address nothing
        with pytest.raises(ClassError, match="taken"):
            work.join("ada", "10.0.0.7")
    work.join("bob", "10.0.0.7")
    with pytest.raises(QuotaExceeded, match="2 joins from this network"):
        work.join("cy", "10.0.0.7")
    work.join("cy", "10.0.0.8")  # another address
    assert [s.nickname for s in work.students()] == ["ada", "bob", "cy"]


def test_an_address_may_join_again_after_its_minute():
    joins = quotas.JoinsPerAddress(limit=2, window_s=60)
    now = time.monotonic()
    assert joins.admit("a", now) and joins.admit("a", now + 1)
    assert not joins.admit("a", now + 2) and not joins.admit("a", now + 59)
    assert joins.admit("a", now + 60.5)  # the first join left the window
    assert joins.admit("b", now + 2)


def test_submissions_per_student_per_challenge(store, monkeypatch):
    monkeypatch.setattr(quotas, "SUBMISSIONS_PER_CHALLENGE", 2)
    work = ClassWork(store)
    ada, _ = work.join("ada")
    bob, _ = work.join("bob")
    challenge = work.start_challenge("fool", digit(), 1, None, "sha")
    work.record_submission(challenge, ada.id, 0.3, digit())
    work.record_submission(challenge, ada.id, 0.2, digit())
    with pytest.raises(QuotaExceeded, match="2 submissions to this challenge"):
        work.record_submission(challenge, ada.id, 0.1, digit())
    work.record_submission(challenge, bob.id, 0.25, digit())
    assert work.leaderboard(challenge) == [("ada", pytest.approx(0.2)), ("bob", 0.25)]
