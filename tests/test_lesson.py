"""A short lesson in real browsers (``bench/lesson.py``, 3 minutes): Chromium students who render
every page beside protocol students, through nginx to two replicas with one restarted in the
moment of a push, the teacher's class view open, pushes and a challenge.

Asserted here: what every answer shows (one prediction, for the drawing on the pad; at most one
label panel; no error), every tap's label in the database (except a tap sent in the moment its
replica was stopped, on a page that then said it started over: at most one per student, counted
apart), every answered drawing saved, the teacher's page working. Reported, not asserted: push
delays, drawings left without an answer and taps lost around the restart (open findings of issue
25, see the README), and memory (3 minutes are mostly warm-up; the 20-minute runs judge it)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.timeout(1200)
def test_a_short_lesson_in_real_browsers(mnist_model_dir, official_mnist_path):
    from conftest import chromium_or_skip

    chromium_or_skip()
    from bench.lesson import failures, run

    result = run(
        minutes=3,
        database="sqlite",
        browsers=2,
        protocol=6,
        pushes=3,
        models_dir=str(mnist_model_dir),
        mnist_data=str(official_mnist_path),
        pace="stress",  # enough answers in 3 minutes to check the pages many times
    )
    chromium = result["chromium"]
    print({k: v for k, v in chromium.items() if k not in ("heap_growth", "heap_mb_first_last")})
    print("events:", result.get("events"))
    assert result["teacher_class_view_open"], result.get("events")
    # the class view comes back by itself after a restart: a teacher who had to reload it is a
    # failure (the harness reloads so that the rest of the lesson can still be judged)
    assert not [e for e in result["events"] if "reloaded the class view" in e], result["events"]
    assert chromium["answers_checked"] >= 10 and chromium["taps"] >= 5
    assert result["pushes"] == 4, result.get("events")  # three test digits and the challenge's
    assert chromium["violations"] == []
    # no tap's label is lost silently; a tap sent in the moment its replica was stopped may be
    # lost with it, on a page that then says it started over (at most one per student)
    assert chromium["taps_lost"] == 0, result["lost_taps"]
    assert chromium["taps_lost_with_restart"] <= 2, result["lost_taps"]
    assert result["protocol"]["labels_missing"] == []
    assert chromium["missing_from_database"] == []
    assert result["protocol"]["missing_from_database"] == []
    print("not asserted:", failures(result, judge_memory=False))


def test_a_tap_is_lost_with_the_restart_only_when_the_page_said_so():
    from bench.lesson import RESTART_WINDOW_S, _lost_with_restart

    record = {"restart_began": 1000.0, "restarted_at": 1002.0}
    said = {"sent": 999.9, "page_started_over": True}
    assert _lost_with_restart(said, record)
    assert not _lost_with_restart({**said, "page_started_over": False}, record)  # silent
    early = {**said, "sent": 1000.0 - RESTART_WINDOW_S - 0.1}  # long before: not the restart's
    assert not _lost_with_restart(early, record)
    assert not _lost_with_restart({**said, "sent": 1002.5}, record)  # after it was back
    assert not _lost_with_restart(said, {})  # no restart in this lesson (a full disk)


def test_client_cpu_is_read_per_process_from_proc():
    import os

    from bench.lesson import client_ticks

    seen: dict[int, tuple[str, int]] = {}
    sum(i * i for i in range(2_000_000))  # some CPU of this process's own
    client_ticks(seen)
    who, ticks = seen[os.getpid()]
    assert who.startswith("bench") and ticks > 0


def test_memory_is_judged_before_the_restart_and_a_warm_up_after_it():
    from bench.lesson import WARM_UP_S, max_growth, memory_windows

    record = {"restart_began": 1000.0, "restarted_at": 1002.0}
    windows = memory_windows(100.0, record)
    assert windows == [(100.0, 1000.0), (1002.0 + WARM_UP_S, float("inf"))]
    flat = [(t, 500.0) for t in range(100, 1000, 30)]
    taken_over = [(t, 700.0) for t in range(1002, 1002 + int(WARM_UP_S), 30)]  # the new sessions
    after = [(t, 800.0) for t in range(1002 + int(WARM_UP_S), 3000, 30)]
    assert max_growth(flat + taken_over + after, windows) == 1.0
    leaking = [(t, 800.0 + (t - 1002 - WARM_UP_S)) for t, _ in after]  # grows after the warm-up
    assert max_growth(flat + taken_over + leaking, windows) > 1.2
    assert max_growth(flat[:3], windows) is None  # too few samples to judge: not "flat"
    assert memory_windows(100.0, {}) == [(100.0, float("inf"))]  # no restart (a full disk)


def test_a_tabs_heap_is_judged_from_each_tour_of_the_pages_to_the_next_load():
    from bench.lesson import max_growth, settled_windows

    # loaded at 0, toured by 40; reloaded at 400, toured by 450; the warm-up ends at 180
    windows = settled_windows([0.0, 400.0], [40.0, 450.0], 180.0)
    assert windows == [(180.0, 400.0), (450.0, float("inf"))]
    before = [(t, 30.0) for t in range(180, 400, 30)]  # every page's code loaded: a plateau
    reloaded = [(t, 14.0) for t in range(400, 450, 10)]  # emptied by the reload, then the tour
    after = [(t, 29.0) for t in range(450, 1200, 30)]
    assert max_growth(before + reloaded + after, windows) < 1.1  # a step at a load is not growth
    leaking = [(t, 29.0 + (t - 450) / 20) for t, _ in after]
    assert max_growth(before + reloaded + leaking, windows) > 1.2  # growth after a tour is
    assert settled_windows([0.0], [], 180.0) == [(180.0, float("inf"))]  # no tour recorded
    # reloaded during the warm-up: the first load's window is empty, and left out
    assert settled_windows([0.0, 140.0], [40.0, 170.0], 180.0) == [(180.0, float("inf"))]
