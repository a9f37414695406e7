"""Handwriting augmentation: the shape edits add their stroke where it belongs, the distortions
keep digits in range and vary them, and nothing changes at zero strength."""

import numpy as np
import tensorflow as tf

from mnist_viz.core.augment import (
    Augmentation,
    add_shapes,
    cross_seven,
    flag_one,
    hook_nine,
    make_distorter,
    slash_zero,
    vary_thickness,
)


def stem(rows=slice(5, 23), cols=slice(13, 16)) -> np.ndarray:
    """A vertical stroke: the stem of a 1, 7 or 9."""
    image = np.zeros((28, 28), np.uint8)
    image[rows, cols] = 255
    return image


def new_ink(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return (after.astype(int) - before.astype(int)) > 60


def test_a_crossed_seven_gets_a_bar_across_its_stem_below_the_middle():
    before = stem()
    added = new_ink(before, cross_seven(before, np.random.default_rng(0)))
    rows, cols = np.nonzero(added)
    assert rows.min() >= 5 + 0.4 * 17 and rows.max() <= 5 + 0.7 * 17 + 2  # below the middle
    assert cols.min() < 13 and cols.max() > 15  # on both sides of the stem
    assert np.ptp(rows) <= 3  # a bar, not a stroke along the stem


def test_a_hooked_nine_gets_a_curl_to_the_left_at_its_foot():
    before = stem()
    added = new_ink(before, hook_nine(before, np.random.default_rng(0)))
    rows, cols = np.nonzero(added)
    assert rows.min() >= 19 and cols.max() <= 15 and cols.min() < 12


def test_a_flagged_one_gets_a_flag_at_its_top():
    before = stem()
    after = flag_one(before, np.random.default_rng(1))
    added = new_ink(before, after)
    top = added[:12]
    assert top.any() and np.nonzero(top)[1].min() < 13  # to the left, near the top
    assert after.dtype == np.uint8 and (after >= before).all()  # ink is only ever added


def ring() -> np.ndarray:
    """An upright oval: a 0."""
    rows, cols = np.mgrid[:28, :28]
    r = ((rows - 14) / 9.0) ** 2 + ((cols - 14) / 6.0) ** 2
    return np.where((r > 0.7) & (r < 1.0), 255, 0).astype(np.uint8)


def test_a_slashed_zero_gets_a_slash_rising_to_the_right_through_its_middle():
    before = ring()
    added = new_ink(before, slash_zero(before, np.random.default_rng(0)))
    rows, cols = np.nonzero(added)
    assert added[12:17, 11:18].any()  # through the hole in the middle
    # rising to the right: the lower rows of new ink lie further left (y grows downward)
    assert np.corrcoef(rows, cols)[0, 1] < -0.8


def test_shapes_go_to_the_chosen_share_of_ones_sevens_and_nines_only():
    labels = np.repeat(np.arange(10), 20)
    images = np.stack([stem()] * len(labels))
    out = add_shapes(images, labels, share=0.5, seed=0)
    changed = (out != images).any(axis=(1, 2))
    for digit in range(10):
        expected = 10 if digit in (1, 7, 9) else 0
        assert changed[labels == digit].sum() == expected, digit
    assert add_shapes(images, labels, share=0.0, seed=0) is images
    rings = np.stack([ring()] * len(labels))
    slashed = add_shapes(rings, labels, share=0.0, seed=0, slashed_zeros=0.5)
    changed = (slashed != rings).any(axis=(1, 2))
    assert changed[labels == 0].sum() == 10 and changed.sum() == 10  # only 0s get a slash


def test_distortions_vary_digits_within_range():
    x = np.zeros((32, 28, 28, 1), np.float32)
    x[:, 6:22, 12:16] = 1.0
    out = make_distorter(Augmentation(share=1.0), seed=1)(tf.constant(x)).numpy()
    assert out.shape == x.shape and out.min() >= 0.0 and out.max() <= 1.0
    assert np.abs(out - x).mean() > 0.02
    assert len({o.tobytes() for o in out}) == 32  # every digit varied its own way


def test_only_the_chosen_share_of_a_batch_is_distorted():
    x = np.zeros((32, 28, 28, 1), np.float32)
    x[:, 6:22, 12:16] = 1.0
    out = make_distorter(Augmentation(share=0.25), seed=1)(tf.constant(x)).numpy()
    changed = np.abs(out - x).max(axis=(1, 2, 3)) > 1e-6
    assert changed[:8].all() and not changed[8:].any()


def test_zero_strength_changes_nothing():
    none = Augmentation(
        rotation=0, slant=0, width=(1, 1), height=(1, 1), shift=0, elastic=0, thickness=0
    )
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    out = make_distorter(none, seed=0)(tf.constant(x)).numpy()
    np.testing.assert_allclose(out, x, atol=1e-5)


def test_pen_width_thickens_and_thins():
    x = np.zeros((2, 9, 9, 1), np.float32)
    x[:, 2:7, 3:6] = 1.0  # a 3-pixel-wide bar
    out = vary_thickness(tf.constant(x), tf.constant([1.0, -1.0])[:, None, None, None]).numpy()
    assert out[0].sum() > x[0].sum()  # thicker
    assert out[1].sum() < x[1].sum()  # thinner
    assert out[1, 4, 4, 0] == 1.0 and out[1, 4, 3, 0] == 0.0  # the core survives, the edge goes


def test_thinning_leaves_a_one_pixel_line_through_a_thick_stroke():
    from mnist_viz.core.augment import thin

    bar = np.zeros((1, 28, 28), bool)
    bar[0, 5:23, 11:17] = True  # 6 px wide
    skeleton = thin(bar)[0]
    rows = np.flatnonzero(skeleton.any(axis=1))
    assert skeleton.sum(axis=1)[rows].max() == 1  # one pixel per row
    assert rows.min() <= 8 and rows.max() >= 19  # still runs most of the bar's length
    assert skeleton[bar[0]].sum() == skeleton.sum()  # inside the stroke


def test_a_pen_path_visits_every_skeleton_pixel_following_the_line():
    from mnist_viz.core.augment import pen_path

    ring = np.zeros((28, 28), bool)  # a closed loop (a 0 written as a box)
    ring[6:21, 10:21] = True
    ring[7:20, 11:20] = False
    stem = np.zeros((28, 28), bool)
    stem[4:24, 4] = True  # a separate stroke: the pen must lift once
    path = pen_path(ring | stem)
    assert len(path) == (ring | stem).sum()
    assert {(int(x - 0.5), int(y - 0.5)) for x, y in path} == set(
        zip(*np.nonzero((ring | stem).T), strict=True)
    )
    jumps = np.abs(np.diff(path, axis=0)).max(axis=1) > 1
    assert jumps.sum() == 1  # one pen lift, from one stroke to the other
    assert path[0, 1] == 4.5  # starts at the top


def test_tablet_recordings_redraw_the_chosen_share_as_coarse_strokes():
    from mnist_viz.core.augment import tablet_recordings

    images = np.stack([stem(cols=slice(12, 15))] * 20)
    out = tablet_recordings(images, share=0.5, seed=0)
    changed = (out != images).any(axis=(1, 2))
    assert changed.sum() == 10 and out.dtype == np.uint8
    # a straight stroke (18 px) stays a straight stroke: thinning eats a pixel or two at each
    # end, the pen's round cap puts about one back
    for image in out[changed]:
        rows = np.flatnonzero((image > 128).any(axis=1))
        cols = np.flatnonzero((image > 128).any(axis=0))
        assert 12 <= np.ptp(rows) <= 18 and np.ptp(cols) <= 4
