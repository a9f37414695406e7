"""The pen-digit loader: the file format, its errors, the shipped copy, writer folds, renderings."""

import gzip
import lzma
import os
from pathlib import Path

import numpy as np
import pytest

from mnist_viz.core.errors import DataError
from mnist_viz.core.pendigits import (
    SHIPPED,
    load_pen_digits,
    parse,
    read_text,
    render_digit,
    render_for_training,
    writer_folds,
)

TWO_DIGITS = """.INCLUDE        dene.doc

.LEXICON "0" "1" "2" "3" "4" "5" "6" "7" "8" "9"
.HIERARCHY      DIGIT

.SEGMENT DIGIT    0 ? "1"
.COMMENT 1 12  224
.PEN_DOWN
 100  400
 100  300
 100  200
.PEN_UP
.DT 100

.SEGMENT DIGIT    1 ? "7"
.COMMENT 7 3  5
.PEN_DOWN
 50  400
 150  400
 80  200
.PEN_UP
.PEN_DOWN
 70  300
 130  300
.PEN_UP
.DT 100
"""
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "pendigits"


def test_a_file_is_read_into_strokes_labels_and_writers():
    pen = parse(TWO_DIGITS, "two.tra")
    assert list(pen.labels) == [1, 7] and list(pen.writers) == [12, 3]
    assert [len(s) for s in pen.strokes] == [1, 2]
    first = pen.strokes[0][0]
    # the tablet's y grows upward; a screen's downward: the 1 is drawn from top to bottom
    assert first[0, 0] == 100 and first[0, 1] < first[-1, 1]
    np.testing.assert_array_equal(first[:, 1], [-400, -300, -200])


@pytest.mark.parametrize(
    ("change", "line", "problem"),
    [
        (lambda t: t.replace(" 100  300\n", " 100  x\n"), 10, "two integers"),
        (lambda t: t.replace(" 100  300\n", " 100  300  5\n"), 10, "two integers"),
        (lambda t: t.replace(" 100  300\n", " 100  99999\n"), 10, "far outside"),
        (lambda t: t.replace('0 ? "1"', '0 ? "x"'), 6, 'expected .SEGMENT DIGIT n ? "d"'),
        (lambda t: t.replace(".COMMENT 1 12", ".COMMENT 4 12"), 7, "says digit 4"),
        (lambda t: t.replace(".COMMENT 1 12  224", ".COMMENT 1 twelve"), 7, ".COMMENT digit"),
        (
            lambda t: t.replace(".PEN_UP\n.DT 100\n\n.SEGMENT", ".DT 100\n\n.SEGMENT", 1),
            12,
            "inside a stroke",
        ),
        (
            lambda t: t.replace(".DT 100\n\n.SEGMENT DIGIT    1", " 5 5\n\n.SEGMENT DIGIT    1"),
            13,
            "outside a .PEN_DOWN",
        ),
        (lambda t: t.replace(".HIERARCHY", ".SURPRISE"), 4, "unknown directive .SURPRISE"),
        (lambda t: t.replace(" 100  400\n 100  300\n 100  200\n", ""), 9, "no pen positions"),
        (lambda t: t.replace(".COMMENT 7 3  5\n", ""), 15, "without its .COMMENT"),
    ],
)
def test_a_malformed_file_names_the_file_and_the_line(change, line, problem):
    with pytest.raises(DataError) as error:
        parse(change(TWO_DIGITS), "bad.tra")
    assert f"bad.tra, line {line}" in str(error.value) and problem in str(error.value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "holds no digits"),
        (".INCLUDE x\n", "holds no digits"),
        (TWO_DIGITS.rsplit(".PEN_UP", 1)[0], "ends inside a stroke"),
        ('.SEGMENT DIGIT 0 ? "3"\n.COMMENT 3 1 1\n', "no pen strokes"),
    ],
)
def test_a_file_without_whole_digits_is_refused(text, problem):
    with pytest.raises(DataError, match=problem):
        parse(text, "bad.tra")


def test_compressed_and_broken_files(tmp_path):
    (tmp_path / "a.tra.xz").write_bytes(lzma.compress(TWO_DIGITS.encode()))
    (tmp_path / "a.tra.gz").write_bytes(gzip.compress(TWO_DIGITS.encode()))
    for name in ("a.tra.xz", "a.tra.gz"):
        assert list(load_pen_digits(tmp_path / name).labels) == [1, 7]
    (tmp_path / "cut.tra.xz").write_bytes(lzma.compress(TWO_DIGITS.encode())[:40])
    with pytest.raises(DataError, match=r"cut\.tra\.xz: cannot be read"):
        read_text(tmp_path / "cut.tra.xz")
    (tmp_path / "binary.tra").write_bytes(TWO_DIGITS.encode() + b"\n\xff\xfe")
    line = TWO_DIGITS.count("\n") + 2
    with pytest.raises(DataError, match=rf"binary\.tra, line {line}: not a text file"):
        read_text(tmp_path / "binary.tra")
    with pytest.raises(DataError, match=r"missing\.tra: file not found"):
        load_pen_digits(tmp_path / "missing.tra")


def test_the_shipped_copy_holds_the_30_training_writers(monkeypatch):
    monkeypatch.delenv("MNIST_VIZ_PEN_DATA")
    pen = load_pen_digits()
    assert pen.location == str(SHIPPED)
    assert len(pen) == 7494 and set(pen.writers) == set(range(1, 31))
    np.testing.assert_array_equal(
        np.bincount(pen.labels), [780, 779, 780, 719, 780, 720, 720, 778, 719, 719]
    )
    original = SHARED / "pendigits-orig.tra"
    if original.is_file():  # the copy is the shared file, compressed and otherwise unchanged
        assert read_text(SHIPPED) == original.read_text(encoding="ascii")


def test_writer_folds_partition_the_writers():
    writers = np.repeat(np.arange(1, 31), 3)
    folds = writer_folds(writers, 5)
    assert [len(f) for f in folds] == [6] * 5
    assert sorted(np.concatenate(folds)) == list(range(1, 31))
    assert [list(f) for f in writer_folds(writers, 5)] == [list(f) for f in folds]


def test_subsets_by_writer():
    pen = parse(TWO_DIGITS)
    assert list(pen.without_writers([12]).labels) == [7]
    assert list(pen.of_writers([12]).labels) == [1]
    assert len(pen.without_writers([3, 12])) == 0


def test_training_renderings_are_digits_as_the_app_reads_them():
    pen = load_pen_digits()  # the tests' 120 real pen digits
    images, labels = render_for_training(pen, copies=2, seed=1)
    assert images.shape == (240, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, np.tile(pen.labels, 2))
    # MNIST's geometry: the ink fills a 20-px box (longer side) with its mass at the centre
    for image in images[:20]:
        rows, cols = np.nonzero(image > 25)
        assert max(np.ptp(rows), np.ptp(cols)) + 1 in (19, 20, 21)
        mass = image.astype(float) / image.sum()
        assert abs((mass.sum(1) * np.arange(28)).sum() - 14) < 0.75
    again, _ = render_for_training(pen, copies=2, seed=1)
    np.testing.assert_array_equal(images, again)
    assert not np.array_equal(images, render_for_training(pen, copies=2, seed=2)[0])


def test_slashed_zeros_get_one_more_stroke_across_the_ring():
    from mnist_viz.core.pendigits import with_slash

    pen = load_pen_digits()
    zero = pen.strokes[int(np.flatnonzero(pen.labels == 0)[0])]
    slashed = with_slash(zero, np.random.default_rng(0))
    assert len(slashed) == len(zero) + 1
    slash = slashed[-1]
    low, high = np.concatenate(zero).min(axis=0), np.concatenate(zero).max(axis=0)
    assert slash[0, 1] > slash[-1, 1] and slash[0, 0] < slash[-1, 0]  # up and to the right
    middle = slash[len(slash) // 2]
    assert np.all(np.abs(middle - (low + high) / 2) < 0.25 * (high - low))  # through the middle
    images, labels = render_for_training(pen, 1, seed=0, slashed_zeros=1.0)
    plain, _ = render_for_training(pen, 1, seed=0)
    changed = (images != plain).any(axis=(1, 2))
    assert changed[labels == 0].all() and not changed[labels != 0].any()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores")
@pytest.mark.process  # a pool of worker processes
def test_renderings_are_the_same_in_one_process_or_two():
    pen = load_pen_digits().subset(np.arange(30))
    one, _ = render_for_training(pen, copies=1, seed=5, workers=1)
    two, _ = render_for_training(pen, copies=1, seed=5, workers=2)
    np.testing.assert_array_equal(one, two)


def test_drawing_small_reads_like_drawing_at_the_canvas_size():
    """The training renderings are drawn about 96 px tall for speed; to_mnist must read them as it
    reads the same digit drawn on the canvas (200 px tall, pens of 8, 18 and 32 px)."""
    from mnist_viz.core.pendigits import placed
    from mnist_viz.core.preprocess import to_mnist
    from mnist_viz.core.strokes import render_canvas

    pen = load_pen_digits()
    for width in (8, 18, 32):
        differences, ink = [], []
        for strokes in pen.strokes[:40]:
            small = to_mnist(render_digit(strokes, 200, width))
            big = to_mnist(render_canvas([s + 40 for s in placed(strokes, 200, 0)], pen=width))
            differences.append(np.abs(small - big).mean())
            ink.append(small.sum() / big.sum())
        # measured 0.013-0.022 (a one-pixel shift of a digit alone costs about 0.1) and 95-102%
        assert np.mean(differences) < 0.03, width
        assert 0.92 < np.mean(ink) < 1.08, width


def test_canvas_strokes_have_no_cracks():
    """Pillow leaves one-pixel cracks between a wide line's segments; the canvas has none, and
    cracks made the app's stroke-width measure (and its thickening) depend on the drawing's size."""
    from scipy import ndimage as ndi

    from mnist_viz.core.pendigits import placed
    from mnist_viz.core.strokes import render_canvas

    for strokes in load_pen_digits().strokes[:20]:
        ink = render_canvas([s + 30 for s in placed(strokes, 200, 0)], pen=24)[..., 0] > 127
        holes, _ = ndi.label(ndi.binary_fill_holes(ink) & ~ink)
        assert np.all(np.bincount(holes.ravel())[1:] >= 5), "a crack inside a stroke"
