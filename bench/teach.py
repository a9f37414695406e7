""" "Teach it my handwriting" and the style feedback, measured on the served model as the page runs them.

Teaching: the first 3 real pen-drawn digits (drawn on the canvas as the app draws strokes, read
by ``to_mnist``) that the cached default model misreads are taught to two private copies, exactly
as the Draw page does (``personal.teach`` on MNIST's training digits for replay, checked on the
same 2,000 MNIST test digits). The model learned from these writers, so these are its hardest
cases among them, not unseen writers.

Style feedback: how often the page would warn that a drawing's shape is unusual for MNIST
(``style.check_style``), on MNIST's test digits and on every real pen digit.

Writes ``bench/results/teach.json``.

    MNIST_DATA=../shared/data/mnist .venv/bin/python bench/teach.py [--models-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pen_digits import read_as_the_app_does  # noqa: E402
from bench.saved import save_to  # noqa: E402
from mnist_viz.core.cache import ModelCache  # noqa: E402
from mnist_viz.core.data import load_mnist  # noqa: E402
from mnist_viz.core.model import predict_proba  # noqa: E402
from mnist_viz.core.pendigits import load_pen_digits  # noqa: E402
from mnist_viz.inputs import personal, style  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "teach.json"


def style_shares(model, reference, images: np.ndarray) -> dict:
    """Shares of ``images`` whose shape is unusual for MNIST (``StyleCheck.unusual``) and on
    which the page speaks up (unusual and unsure: ``StyleCheck.worth_saying``), computed for all
    at once exactly as ``style.check_style`` does for one."""
    probabilities = predict_proba(model, images)
    predicted = probabilities.argmax(1)
    distances = reference.distances(style.features(style.feature_model(model), images))
    unusual = distances[np.arange(len(images)), predicted] > reference.thresholds[predicted]
    unsure = probabilities.max(1) < style.UNSURE_BELOW
    return {
        "unusual": round(float(unusual.mean()), 4),
        "feedback_shown": round(float((unusual & unsure).mean()), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models-dir", help="model cache folder (default: models/)")
    parser.add_argument("--out", default=str(RESULTS), help="where the JSON goes ('-': nowhere)")
    args = parser.parse_args(argv)
    model = ModelCache(args.models_dir).load().model
    data = load_mnist()
    pen = load_pen_digits()
    images = read_as_the_app_does(pen, "canvas")
    guesses = predict_proba(model, images).argmax(1)
    wrong = np.flatnonzero(guesses != pen.labels)
    chosen = wrong[:3]
    check = np.random.default_rng(0).permutation(len(data.y_test))[: personal.CHECK_DIGITS]
    result = personal.teach(
        model,
        images[chosen],
        pen.labels[chosen],
        data.x_train,
        data.y_train,
        data.x_test[check],
        data.y_test[check],
    )
    out = {
        "pen_digits_misread": len(wrong),
        "pen_digits": len(pen),
        "taught": [
            f"a {int(pen.labels[i])} by writer {int(pen.writers[i])}, read as {int(guesses[i])}"
            for i in chosen
        ],
    }
    for name in ("before", "naive", "replay"):
        scores = getattr(result, name)
        out[name] = {"examples": round(scores.examples, 4), "mnist": round(scores.mnist, 4)}
    reference = style.fit_reference(model, data.x_train, data.y_train, data.x_test, data.y_test)
    out["style_mnist_test"] = style_shares(model, reference, data.x_test / 255.0)
    out["style_pen"] = style_shares(model, reference, images)
    print(json.dumps(out, indent=1))
    save_to(args.out, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
