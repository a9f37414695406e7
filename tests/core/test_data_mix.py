"""The training set of each data mix: what goes in, what is left out, and what it is called."""

import numpy as np
import pytest

from mnist_viz.core.data_mix import (
    MIX_MNIST,
    MIX_MNIST_PEN,
    check_mix,
    describe_sources,
    training_set,
)
from mnist_viz.core.pendigits import load_pen_digits


def test_mnist_alone_is_mnist_as_it_is(tiny_data):
    train = training_set(tiny_data, MIX_MNIST, augment=False)
    np.testing.assert_array_equal(train.images, tiny_data.x_train)
    np.testing.assert_array_equal(train.labels, tiny_data.y_train)
    assert [(s.name, s.images) for s in train.sources] == [("MNIST", 512)]


def test_the_pen_mix_adds_renderings_of_every_writer_not_held_out(tiny_data):
    pen = load_pen_digits()  # the tests' 120 real pen digits
    train = training_set(tiny_data, MIX_MNIST_PEN, augment=False, pen_copies=3)
    assert len(train.images) == 512 + 3 * len(pen)
    np.testing.assert_array_equal(train.labels[512:], np.tile(pen.labels, 3))
    assert train.sources[1].name == "pen" and train.sources[1].images == 3 * len(pen)
    writers = sorted(set(pen.writers.tolist()))
    held = training_set(tiny_data, MIX_MNIST_PEN, augment=False, pen_held_out=writers[:2])
    kept = pen.without_writers(writers[:2])
    assert len(held.images) == 512 + 2 * len(kept)
    np.testing.assert_array_equal(held.labels[512:], np.tile(kept.labels, 2))
    assert f"by {len(writers) - 2} writers" in held.sources[1].description


def test_rendered_pen_digits_look_like_their_class(tiny_data):
    """Each rendering is labelled as the digit it shows: a 1 is tall and narrow, a 0 is not."""
    train = training_set(tiny_data, MIX_MNIST_PEN, augment=False)
    pen_images, pen_labels = train.images[512:], train.labels[512:]
    width = (pen_images > 64).any(axis=1).sum(axis=1)
    if np.any(pen_labels == 1) and np.any(pen_labels == 0):
        assert width[pen_labels == 1].mean() < width[pen_labels == 0].mean() - 4


def test_mixes_are_checked_and_described():
    assert check_mix("mnist+pen") == "mnist+pen"
    with pytest.raises(ValueError, match="unknown data mix 'pen'; choose mnist\\+pen or mnist"):
        check_mix("pen")
    sources = [{"name": "MNIST", "images": 60000}, {"name": "pen", "images": 14988}]
    assert describe_sources(sources) == (
        "MNIST (60,000 images) and real pen-drawn digits (14,988 images)"
    )
    assert describe_sources([]) == ""
