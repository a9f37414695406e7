"""The current digit and the verdict shown beside a prediction."""

import numpy as np
import pytest
from conftest import canvas_drawing, tiny_mnist

from mnist_viz.core.errors import BlankImageError
from mnist_viz.inputs import digit as digits


def probabilities(best: int, p: float, second: int | None = None) -> np.ndarray:
    out = np.full(10, (1 - p) / 9)
    if second is not None:
        out[:] = 0
        out[second] = 1 - p
    out[best] = p
    return out


def test_a_confident_prediction_of_a_normal_digit_has_no_notes():
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 12:16] = 255  # a "1": 80 of 784 pixels, 10% ink
    verdict = digits.judge(probabilities(1, 0.97), image)
    assert (verdict.digit, verdict.confidence, verdict.notes) == (1, pytest.approx(0.97), ())
    assert verdict.is_confident


def test_low_confidence_names_the_runner_up():
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 12:16] = 255
    verdict = digits.judge(probabilities(4, 0.55, second=9), image)
    assert verdict.runner_up == 9 and verdict.runner_up_probability == pytest.approx(0.45)
    assert "4 (55%) and 9 (45%)" in verdict.notes[0]


def test_a_value_that_is_not_a_number_is_never_the_answer():
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 12:16] = 255
    p = probabilities(3, 0.9)
    p[6] = np.nan  # a broken model
    verdict = digits.judge(p, image)
    assert (verdict.digit, verdict.confidence) == (3, pytest.approx(0.9))
    assert verdict.runner_up not in (3, 6)


@pytest.mark.parametrize("ink_rows", [0, 1, 20])
def test_too_little_or_too_much_ink_is_not_a_digit(ink_rows):
    image = np.zeros((28, 28), np.uint8)
    image[4 : 4 + ink_rows, 4:24] = 255  # 0, 20 or 400 ink pixels of 784
    verdict = digits.judge(probabilities(8, 0.99), image)
    assert any("does not look like a handwritten digit" in n for n in verdict.notes)


def test_ink_range_covers_nearly_all_mnist_like_digits(tiny_data):
    # synthetic bars are 3x16 = 48 pixels (6%): inside the range
    assert all(
        digits.INK_RANGE[0] <= digits.ink_fraction(x) <= digits.INK_RANGE[1]
        for x in tiny_data.x_test
    )


def test_from_image_keeps_the_stages_and_gives_uint8():
    d = digits.from_image(canvas_drawing("1"), digits.DRAWING, "your drawing")
    assert d.image.dtype == np.uint8 and d.image.shape == (28, 28)
    assert d.stages is not None and d.label is None
    np.testing.assert_array_equal(d.image, np.round(d.stages.centred * 255).astype(np.uint8))


def test_from_image_refuses_a_blank_canvas():
    with pytest.raises(BlankImageError):
        digits.from_image(np.zeros((280, 280), np.uint8), digits.DRAWING, "blank")


def test_random_index_respects_the_class():
    data = tiny_mnist()
    rng = np.random.default_rng(0)
    for wanted in range(10):
        if wanted in data.y_test:
            assert data.y_test[digits.random_index(data.y_test, wanted, rng)] == wanted
    assert 0 <= digits.random_index(data.y_test, None, rng) < len(data.y_test)
    with pytest.raises(ValueError):
        digits.random_index(np.zeros(5, np.uint8), 3, rng)


def test_from_test_set_carries_the_label():
    data = tiny_mnist()
    d = digits.from_test_set(data.x_test, data.y_test, 5)
    assert d.label == data.y_test[5] and d.source == digits.TEST_SET and "#5" in d.description
    np.testing.assert_array_equal(d.image, data.x_test[5])
