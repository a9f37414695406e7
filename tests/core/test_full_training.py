"""The default recipe on the complete official MNIST and the shipped pen digits: the accuracy
promises, on MNIST and on real people's pen-drawn digits by writers the network never saw.

Slow (about a minute): the one test suite that trains the default recipe for real. It leaves the
first fold's 6 pen writers out of training (24 of 30 writers remain) so that their digits are
honest test data; everything else is the default recipe. Skipped only where the official MNIST is
absent (set MNIST_TEST_DATA; the Makefile points it at ../shared/data/mnist).
"""

import numpy as np
import pytest
from PIL import Image

from mnist_viz.core.cache import ModelCache
from mnist_viz.core.data import load_mnist
from mnist_viz.core.model import predict_proba
from mnist_viz.core.pendigits import PEN_DATA_ENV_VAR, SHIPPED, load_pen_digits, writer_folds
from mnist_viz.core.preprocess import to_mnist
from mnist_viz.core.training import TrainConfig

pytestmark = pytest.mark.slow
CANVAS = 280


@pytest.fixture(scope="module")
def mnist(official_mnist_path):
    return load_mnist(official_mnist_path)


@pytest.fixture(scope="module")
def pen():
    """All 7,494 shipped pen digits (not the tests' few)."""
    return load_pen_digits(SHIPPED)


@pytest.fixture(scope="module")
def unseen_writers(pen):
    return [int(w) for w in writer_folds(pen.writers)[0]]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def trained(mnist, unseen_writers, models_dir):
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(PEN_DATA_ENV_VAR, raising=False)  # the shipped copy, all of it
        config = TrainConfig(pen_held_out=tuple(unseen_writers))
        return ModelCache(models_dir).train(lambda: mnist, config)


def test_default_recipe_reaches_99_percent_on_the_official_test_set(trained, mnist, pen):
    info = trained.info
    pen_trained = len(pen.without_writers(info.config["pen_held_out"]))
    assert info.n_train == 60_000 + 2 * pen_trained and info.n_test == 10_000
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


def test_real_pen_digits_by_writers_it_never_saw(trained, pen, unseen_writers):
    """The 6 left-out writers' 1,499 digits, drawn on the canvas as the app draws strokes (18-px
    pen, 200 px tall) and read by to_mnist: at least 97% in all and 93% for every digit."""
    from bench.pen_digits import per_class, read_as_the_app_does

    unseen = pen.of_writers(unseen_writers)
    guess = predict_proba(trained.model, read_as_the_app_does(unseen, "canvas")).argmax(1)
    correct = guess == unseen.labels
    classes = per_class(unseen.labels, correct)
    print(f"unseen pen writers: {correct.mean():.2%}; per digit {classes}")
    assert correct.mean() >= 0.97  # measured 98.4-99.3% on the 5 folds (bench/pen_digits.py)
    assert min(classes) >= 0.93


@pytest.mark.browser
def test_real_pen_digits_drawn_in_chromium_on_the_real_canvas(
    trained, models_dir, pen, unseen_writers, official_mnist_path
):
    """60 of the unseen writers' digits (6 of each) drawn stroke by stroke on the app's canvas in
    Chromium, through their recorded positions: the app reads at least 95% of them right."""
    from conftest import chromium_or_skip

    chromium_or_skip()
    from bench.pen_browser import read_in_chromium

    unseen = pen.of_writers(unseen_writers)
    rng = np.random.default_rng(0)
    chosen = np.concatenate(
        [rng.permutation(np.flatnonzero(unseen.labels == d))[:6] for d in range(10)]
    )
    digits = unseen.subset(chosen)
    shown = read_in_chromium(
        str(models_dir), digits.strokes, {"MNIST_DATA": str(official_mnist_path)}
    )
    right = [s == str(t) for s, t in zip(shown, digits.labels, strict=True)]
    print(f"drawn in Chromium: {np.mean(right):.1%}; answers {shown}")
    assert shown.count("none") == 0
    assert np.mean(right) >= 0.95


def test_digits_drawn_by_synthetic_writers(trained):
    """bench/strokes.py's synthetic writers (generated, not people: many styles per digit, crossed
    7s, hooked 9s, flagged 1s, narrow 6s, each writer with their own slant, width and size), drawn
    as the canvas draws strokes, and again as 8-point pen-tablet recordings, read by to_mnist."""
    from bench.strokes import handwriting, render, tablet

    drawings = handwriting(writers=20, per_digit=3, seed=7)  # not the benchmark's own seed
    labels = np.array([d.digit for d in drawings])
    drawn = np.stack([to_mnist(render(d.strokes)) for d in drawings])
    recorded = np.stack([to_mnist(render(tablet(d.strokes))) for d in drawings])
    drawn_acc = np.mean(predict_proba(trained.model, drawn).argmax(1) == labels)
    tablet_acc = np.mean(predict_proba(trained.model, recorded).argmax(1) == labels)
    print(f"synthetic writers: {drawn_acc:.1%}; as tablet recordings: {tablet_acc:.1%}")
    assert drawn_acc >= 0.97  # measured 99.4-99.6% on bench/drawn_digits.py's 2,000
    assert tablet_acc >= 0.95  # measured 96.8-97.6%: coarse 8-point polylines
