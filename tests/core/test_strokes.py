"""Strokes drawn as the canvas draws them, checked against independent computations."""

import numpy as np
import pytest

from mnist_viz.core.strokes import catmull_rom, draw_strokes, fabric_path, render_canvas


def test_the_brush_path_runs_through_the_midpoints_bent_towards_each_position():
    points = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [20.0, 10.0]])
    path = fabric_path(points, step=0.01)
    np.testing.assert_allclose(path[0], points[0])
    np.testing.assert_allclose(path[-1], points[-1])
    for i in (1, 2):  # each inner position bends the curve from one midpoint to the next
        start, control, end = (
            (points[i - 1] + points[i]) / 2,
            points[i],
            (points[i] + points[i + 1]) / 2,
        )
        assert np.min(np.linalg.norm(path - start, axis=1)) < 1e-9
        assert np.min(np.linalg.norm(path - end, axis=1)) < 1e-9
        # the quadratic Bezier's middle: a quarter of each end and half the control point
        middle = 0.25 * start + 0.5 * control + 0.25 * end
        assert np.min(np.linalg.norm(path - middle, axis=1)) < 0.01
        assert np.min(np.linalg.norm(path - control, axis=1)) > 1.0  # corners are cut


def test_the_brush_path_of_a_straight_line_stays_on_it_and_skips_repeats():
    points = np.array([[0.0, 5.0], [3.0, 5.0], [3.0, 5.0], [9.0, 5.0], [12.0, 5.0]])
    path = fabric_path(points)
    np.testing.assert_allclose(path[:, 1], 5.0)
    assert np.all(np.diff(path[:, 0]) >= 0) and path[-1, 0] == 12.0
    np.testing.assert_allclose(fabric_path(points[:2]), points[:2])  # two positions: a line


def test_a_dense_curve_passes_through_every_recorded_position():
    points = np.array([[0.0, 0.0], [20.0, 5.0], [25.0, 30.0], [5.0, 40.0], [0.0, 60.0]])
    curve = catmull_rom(points, step=1.0)
    for p in points:
        assert np.min(np.linalg.norm(curve - p, axis=1)) < 1e-9
    steps = np.linalg.norm(np.diff(curve, axis=0), axis=1)
    assert steps.max() < 3.0  # dense, as a mouse reports a stroke


@pytest.mark.parametrize("pen", [6, 18, 31])
def test_a_straight_stroke_covers_a_stadium(pen):
    """Round caps: a pen of width w along a line of length L covers w L + pi w^2 / 4."""
    length = 150.0
    image = draw_strokes([np.array([[60.0, 100.0], [60.0 + length, 100.0]])], pen, (280, 200))
    area = np.count_nonzero(image > 127)
    assert area == pytest.approx(pen * length + np.pi * pen**2 / 4, rel=0.04)


def test_the_canvas_picture_is_opaque_white_ink_on_black():
    rgba = render_canvas([[(40.0, 40.0), (200.0, 220.0)]], pen=18)
    assert rgba.shape == (280, 280, 4) and rgba.dtype == np.uint8
    assert np.all(rgba[..., 3] == 255)
    assert (
        set(np.unique(rgba[..., 0])) <= {0, 255} and rgba[0, 0, 0] == 0 and rgba[130, 130, 0] == 255
    )
    np.testing.assert_array_equal(rgba[..., 0], rgba[..., 2])
