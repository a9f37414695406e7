"""Which drawing a label panel labels (``mnist_viz.classroom.labelling``)."""

from __future__ import annotations

from mnist_viz.classroom.labelling import (
    LabelTarget,
    OpenDrawing,
    drawing_to_update,
    label_target,
    open_after_clear,
)
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


def test_a_stroke_updates_the_open_drawing_but_never_an_upload():
    drawing = OpenDrawing(key="d", drawing_id=5, predicted=1, source=DRAWING)
    photo = OpenDrawing(key="u", drawing_id=6, predicted=2, source=UPLOAD)
    assert drawing_to_update(drawing, DRAWING) == 5  # a further stroke of the same drawing
    assert drawing_to_update(photo, DRAWING) is None  # a stroke after an upload: a new drawing
    assert drawing_to_update(drawing, UPLOAD) is None  # every upload is a new one
    assert drawing_to_update(None, DRAWING) is None  # after Clear


def test_a_clear_closes_the_open_drawing_but_not_an_upload():
    drawing = OpenDrawing(key="d", drawing_id=5, predicted=1, source=DRAWING)
    photo = OpenDrawing(key="u", drawing_id=6, predicted=2, source=UPLOAD)
    assert open_after_clear(drawing) is None  # the next stroke starts a new drawing
    assert open_after_clear(photo) == photo  # the photo in view is not saved a second time
    assert open_after_clear(None) is None
