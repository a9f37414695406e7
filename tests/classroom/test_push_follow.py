"""What a push does to a student's session (``mnist_viz.classroom.push_follow``), over a plain
dict as the session state."""

from __future__ import annotations

import numpy as np

from mnist_viz.classroom import push_follow as follow
from mnist_viz.classroom.pending_push import GRACE_S
from mnist_viz.classroom.push_follow import Notice
from mnist_viz.classroom.pushes import Push
from mnist_viz.inputs.digit import DRAWING, TEST_SET, Digit, from_push


def digit(value: int, source: str = DRAWING) -> Digit:
    return Digit(np.full((28, 28), value, np.uint8), source, f"digit {value}")


def pushed(value: int) -> Digit:
    return from_push(np.full((28, 28), value, np.uint8), None, f"push {value}")


def same(a: Digit | None, b: Digit | None) -> bool:
    """The same digit: its pixels, where it came from and what it is called."""
    return a is b or (
        a is not None
        and b is not None
        and (a.key, a.source, a.description) == (b.key, b.source, b.description)
    )


def a_session() -> dict:
    return {follow.SEEN: 0}  # a page that follows pushes and has seen none


def test_a_push_becomes_the_digit_and_the_students_own_is_kept():
    state, mine = a_session(), digit(1)
    assert same(follow.take(state, 1, pushed(9), mine, now=100.0, reported=1), pushed(9))
    assert state[follow.SEEN] == 1 and state[follow.HANDLED] == 1
    assert state[follow.OWN] is mine
    assert follow.notice(state, pushed(9), now=100.1) is Notice.PUSHED_WITH_BACK
    assert follow.back_to_own(state) is mine
    assert follow.PENDING not in state and follow.OWN not in state


def test_the_same_push_twice_or_one_without_an_image_changes_nothing():
    state = a_session()
    follow.take(state, 1, pushed(9), digit(1), now=1.0)
    before = dict(state)
    assert follow.take(state, 1, pushed(9), pushed(9), now=2.0) is None
    assert follow.take(state, 2, None, pushed(9), now=2.0) is None
    assert {k: v for k, v in state.items() if k != follow.HANDLED} == {
        k: v for k, v in before.items() if k != follow.HANDLED
    }


def test_two_pushes_in_one_run_keep_the_students_own_digit_not_the_first_push():
    state, mine = a_session(), digit(1)
    current = follow.take(state, 1, pushed(7), mine, now=1.0)
    current = follow.take(state, 2, pushed(8), current, now=1.0)
    assert same(current, pushed(8)) and state[follow.OWN] is mine


def test_a_push_over_a_test_digit_keeps_it_too():
    state, test_digit = a_session(), digit(5, TEST_SET)
    follow.take(state, 1, pushed(9), test_digit, now=1.0)
    assert state[follow.OWN] is test_digit


def test_a_stroke_that_replaced_the_push_before_it_was_seen_gets_the_while_drawing_notice():
    state, mine = a_session(), digit(1)
    follow.take(state, 1, pushed(9), mine, now=10.0)
    stroke = digit(2)  # the next stroke's digit replaced the push before any run showed it
    # however late: the push was never shown
    assert follow.notice(state, stroke, now=10.0 + 10 * GRACE_S) is Notice.WHILE_DRAWING
    assert same(follow.show_pending(state, stroke), pushed(9))  # "Show it"
    assert state[follow.OWN] is stroke and follow.PENDING not in state


def test_a_push_that_was_shown_lets_the_student_draw_on_after_the_grace_time():
    state = a_session()
    follow.take(state, 1, pushed(9), digit(1), now=10.0)
    follow.seen_with(state, pushed(9))  # its answer was drawn to the end
    assert follow.notice(state, pushed(9), now=10.1) is Notice.PUSHED_WITH_BACK
    # drawing again well after the push: no notice, and the push is let go
    assert follow.notice(state, digit(3), now=10.0 + GRACE_S + 1) is Notice.NONE
    assert follow.PENDING not in state
    # within the grace time the notice says a push came while drawing
    follow.take(state, 2, pushed(8), digit(3), now=20.0)
    follow.seen_with(state, pushed(8))
    assert follow.notice(state, digit(4), now=20.5) is Notice.WHILE_DRAWING


def test_a_push_whose_callback_was_lost_is_caught_up_once():
    state = a_session()
    assert follow.needs_catch_up(state, 3) is True  # reported, never handled
    assert follow.needs_catch_up(state, 3) is False  # handled now
    assert follow.needs_catch_up(state, "3") is False  # a forged value is not an id
    assert follow.needs_catch_up({}, 4) is False  # a new session decides on its own first


def test_a_new_page_takes_only_a_push_sent_in_its_moment():
    image = np.zeros((28, 28), np.uint8)
    old = Push(id=5, image=image, label=None, text="", at=1000.0)
    assert old.seen_by_a_new_page(now=1100.0) == 5  # an old push: not jumped to
    # reloaded, or reconnected after a replica restart, in the moment of the push: taken
    assert old.seen_by_a_new_page(now=1001.0) == 4
    state = {follow.SEEN: old.seen_by_a_new_page(now=1001.0)}
    assert same(follow.take(state, 5, pushed(9), None, now=1.0), pushed(9))
    assert follow.OWN not in state  # nothing of the student's to keep


def test_no_push_no_notice():
    assert follow.notice(a_session(), digit(1), now=0.0) is Notice.NONE
    assert follow.notice(a_session(), None, now=0.0) is Notice.NONE
    assert follow.back_to_own(a_session()) is None
    assert same(follow.show_pending(a_session(), digit(1)), digit(1))
