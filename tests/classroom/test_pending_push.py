"""When a push that a stroke replaced is said on the student's page."""

from mnist_viz.classroom.pending_push import GRACE_S, PendingPush


def test_a_push_cut_off_by_a_stroke_is_said_within_the_grace_time():
    assert PendingPush(at=100.0).needs_notice(100.0 + GRACE_S)


def test_a_push_never_shown_is_said_however_late_the_stroke():
    # a busy server cut short the run that would have shown it: the student never saw it
    assert PendingPush(at=100.0).needs_notice(100.0 + 60 * GRACE_S)


def test_a_push_shown_and_drawn_over_later_is_not_said_again():
    assert not PendingPush(at=100.0, shown=True).needs_notice(100.0 + GRACE_S + 0.1)
    assert PendingPush(at=100.0, shown=True).needs_notice(100.0 + GRACE_S / 2)


def test_the_notice_once_up_stays_until_the_student_looks():
    assert PendingPush(at=100.0, shown=True, cut=True).needs_notice(10_000.0)
