"""The default recipe on the complete official MNIST: the accuracy promise, and drawn digits.

Slow (about a minute): the one test suite that trains for real. Skipped only where the official
MNIST is absent (set MNIST_TEST_DATA; the Makefile points it at ../shared/data/mnist).
"""

import numpy as np
import pytest
from PIL import Image

from mnist_viz.cache import ModelCache
from mnist_viz.data import load_mnist
from mnist_viz.model import predict_proba
from mnist_viz.preprocess import to_mnist

pytestmark = pytest.mark.slow
CANVAS = 280


@pytest.fixture(scope="module")
def mnist(official_mnist_path):
    return load_mnist(official_mnist_path)


@pytest.fixture(scope="module")
def trained(mnist, tmp_path_factory):
    return ModelCache(tmp_path_factory.mktemp("models")).load_or_train(lambda: mnist)


def test_default_recipe_reaches_99_percent_on_the_official_test_set(trained, mnist):
    info = trained.info
    assert info.n_train == 60_000 and info.n_test == 10_000
    assert info.test_accuracy >= 0.990, f"test accuracy {info.test_accuracy:.4f}"
    # The number the app shows is the model's real accuracy, recomputed independently here.
    predictions = predict_proba(trained.model, mnist.x_test).argmax(axis=1)
    assert np.mean(predictions == mnist.y_test) == pytest.approx(info.test_accuracy, abs=1e-4)


def render_as_drawing(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit redrawn as a canvas drawing: scaled, moved anywhere, hard-edged white ink."""
    size = int(rng.integers(70, 250))
    big = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR))
    ink = np.where(big > 100, 255, 0).astype(np.uint8)
    rgba = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    rgba[..., 3] = 255
    top, left = rng.integers(0, CANVAS - size + 1, 2)
    for channel in range(3):
        rgba[top : top + size, left : left + size, channel] = ink
    return rgba


def naive_resize(rgba: np.ndarray) -> np.ndarray:
    """What most demos do: shrink the whole canvas to 28x28."""
    grey = Image.fromarray(rgba[..., 0]).resize((28, 28), Image.Resampling.BILINEAR)
    return np.asarray(grey, np.float32) / 255.0


def test_drawn_digits_anywhere_on_the_canvas_are_read(trained, mnist):
    rng = np.random.default_rng(0)
    idx = rng.choice(len(mnist.x_test), 500, replace=False)
    drawings = [render_as_drawing(mnist.x_test[i], rng) for i in idx]
    ours = predict_proba(trained.model, np.stack([to_mnist(d) for d in drawings])).argmax(1)
    naive = predict_proba(trained.model, np.stack([naive_resize(d) for d in drawings])).argmax(1)
    ours_acc, naive_acc = np.mean(ours == mnist.y_test[idx]), np.mean(naive == mnist.y_test[idx])
    print(f"drawn digits: MNIST preprocessing {ours_acc:.1%}, naive resize {naive_acc:.1%}")
    assert ours_acc >= 0.95
    assert ours_acc > naive_acc + 0.2


def test_digits_written_by_other_people_uci(trained):
    """The UCI digits (43 writers, none from MNIST; scikit-learn ships them) at 8x8, 17 grey levels."""
    from sklearn.datasets import load_digits

    uci = load_digits()
    images = (uci.images / 16.0 * 255).astype(np.uint8)
    big = [
        np.asarray(Image.fromarray(im).resize((160, 160), Image.Resampling.BICUBIC))
        for im in images
    ]
    predictions = predict_proba(trained.model, np.stack([to_mnist(b) for b in big])).argmax(1)
    accuracy = np.mean(predictions == uci.target)
    print(f"UCI digits (8x8, other writers): {accuracy:.1%}")
    assert accuracy >= 0.78  # measured 81.5%: blurry 8x8 sources, far below the drawn-digit bar


def test_digits_drawn_by_writers_outside_mnist(trained):
    """bench/strokes.py's writers (many styles per digit: crossed 7s, hooked 9s, flagged 1s, narrow
    6s, each writer with their own slant, width and size), drawn as the canvas draws strokes, and
    again as 8-point pen-tablet recordings (the UCI pen-based digits' format), read by to_mnist."""
    from bench.strokes import handwriting, render, tablet

    drawings = handwriting(writers=20, per_digit=3, seed=7)  # not the benchmark's own seed
    labels = np.array([d.digit for d in drawings])
    drawn = np.stack([to_mnist(render(d.strokes)) for d in drawings])
    recorded = np.stack([to_mnist(render(tablet(d.strokes))) for d in drawings])
    drawn_acc = np.mean(predict_proba(trained.model, drawn).argmax(1) == labels)
    tablet_acc = np.mean(predict_proba(trained.model, recorded).argmax(1) == labels)
    print(f"drawn by other writers: {drawn_acc:.1%}; as tablet recordings: {tablet_acc:.1%}")
    assert drawn_acc >= 0.97  # measured 99.4-99.6% on bench/drawn_digits.py's 2,000
    assert tablet_acc >= 0.95  # measured 96.8-97.6%: coarse 8-point polylines
