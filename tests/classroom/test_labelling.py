"""Which drawing a label panel labels (``mnist_viz.classroom.labelling``)."""

from __future__ import annotations

from mnist_viz.classroom.labelling import LabelTarget, OpenDrawing, label_target
from mnist_viz.inputs.digit import DRAWING, PUSHED, TEST_SET, UPLOAD

OPEN = OpenDrawing(key="abc", drawing_id=41, predicted=7)


def test_the_students_saved_drawing_in_view_gets_its_panel():
    assert label_target("abc", DRAWING, None, OPEN) == LabelTarget(41, 7, under_push=False)
    assert label_target("abc", UPLOAD, None, OPEN) == LabelTarget(41, 7, under_push=False)


def test_a_push_over_the_students_drawing_keeps_the_panel_of_their_drawing():
    # the pushed digit is in view; the student's own drawing is kept to go back to
    assert label_target("pushed", PUSHED, "abc", OPEN) == LabelTarget(41, 7, under_push=True)


def test_no_panel_for_what_is_not_the_students_saved_drawing():
    assert label_target("abc", DRAWING, None, None) is None  # not saved (not joined, a failure)
    assert label_target("other", DRAWING, None, OPEN) is None  # a new version not saved yet
    assert label_target("abc", TEST_SET, None, OPEN) is None  # a test digit with the same key
    assert label_target("pushed", PUSHED, None, OPEN) is None  # a push over a test digit
    assert label_target("pushed", PUSHED, "cleared", OPEN) is None  # own digit not the saved one
