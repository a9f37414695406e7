"""Real pen-drawn digits by writers the network never saw: the honest check of issue 17.

The 30 writers of the UCI pen-based digits (``mnist_viz.core.pendigits``) are dealt into 5 folds of 6.
For each fold, the default recipe trains on MNIST plus the pen digits of the other 24 writers, and
the fold's 6 writers' digits are drawn on a 280-px canvas as the app draws strokes, in several
ways a learner could draw them, and read through ``to_mnist`` exactly as the app reads a drawing.
Each writer is judged by a network that never saw them. Reports accuracy per rendering, per
class and per writer, the confusions, and each fold model's MNIST test accuracy; writes JSON to
``bench/results/pen_digits.json`` (``--out``).

The collection's own 14-writer test split is not used here, nor anywhere in this project.

    MNIST_DATA=../shared/data/mnist .venv/bin/python bench/pen_digits.py [--mix mnist] [--folds 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.saved import save_to  # noqa: E402
from mnist_viz.core.pendigits import PenDigits, load_pen_digits, placed, writer_folds  # noqa: E402
from mnist_viz.core.preprocess import to_mnist  # noqa: E402
from mnist_viz.core.strokes import CANVAS, catmull_rom, render_canvas  # noqa: E402

# Ways a learner's digit reaches the app: the canvas's brush through the recorded positions
# (headline), straight lines between them, a dense curve (a mouse's many positions), a thin and a
# thick pen, and a small drawing. Fixed, so that every model is judged on the same images.
RENDERINGS = {
    "canvas": {"sampling": "brush", "pen": 18, "side": 200},
    "polyline": {"sampling": "polyline", "pen": 18, "side": 200},
    "dense": {"sampling": "dense", "pen": 18, "side": 200},
    "thin pen": {"sampling": "brush", "pen": 8, "side": 200},
    "thick pen": {"sampling": "brush", "pen": 32, "side": 170},
    "small": {"sampling": "brush", "pen": 18, "side": 100},
}
HEADLINE = "canvas"
RESULTS = ROOT / "bench" / "results" / "pen_digits.json"


def canvas_strokes(strokes: list[np.ndarray], side: float) -> list[np.ndarray]:
    """The digit placed in the middle of the 280-px canvas with its longer side ``side`` px."""
    xy = placed(strokes, side, 0.0)
    extent = np.concatenate(xy).max(axis=0)
    return [s + (CANVAS - extent) / 2 for s in xy]


def draw(strokes: list[np.ndarray], sampling: str, pen: float, side: float) -> np.ndarray:
    """The canvas's RGBA picture of a pen digit drawn one of the ways in ``RENDERINGS``."""
    xy = canvas_strokes(strokes, side)
    if sampling == "dense":
        xy = [catmull_rom(s) for s in xy]
    return render_canvas(xy, pen=pen, smooth=sampling != "polyline")


def read_as_the_app_does(pen: PenDigits, rendering: str) -> np.ndarray:
    """(N, 28, 28) float32: every digit drawn one way, through ``to_mnist``."""
    how = RENDERINGS[rendering]
    return np.stack(
        [to_mnist(draw(s, how["sampling"], how["pen"], how["side"])) for s in pen.strokes]
    )


def confusions(labels: np.ndarray, predictions: np.ndarray, top: int = 8) -> list[str]:
    matrix = np.zeros((10, 10), np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    np.fill_diagonal(matrix, 0)
    order = np.argsort(matrix, axis=None)[::-1][:top]
    rows, cols = np.unravel_index(order, matrix.shape)
    return [
        f"{t} read as {p}: {matrix[t, p]}" for t, p in zip(rows, cols, strict=True) if matrix[t, p]
    ]


def per_class(labels: np.ndarray, correct: np.ndarray) -> list[float]:
    return [round(float(correct[labels == d].mean()), 4) for d in range(10)]


def in_chromium(result, data, unseen: PenDigits, n: int, seed: int) -> dict:
    """Draw ``n`` of ``unseen`` (as many of each digit) on the app's canvas in Chromium, served
    with ``result``'s model; the app's answers against the labels and the offline reading."""
    import tempfile

    from bench.pen_browser import read_in_chromium
    from mnist_viz.core.cache import ModelCache
    from mnist_viz.core.model import predict_proba

    rng = np.random.default_rng(seed)
    chosen = np.concatenate(
        [rng.permutation(np.flatnonzero(unseen.labels == d))[: n // 10] for d in range(10)]
    )
    digits = unseen.subset(chosen)
    offline = predict_proba(result.model, read_as_the_app_does(digits, HEADLINE)).argmax(1)
    with tempfile.TemporaryDirectory() as models_dir:
        cache = ModelCache(models_dir)
        with cache.lock():
            cache.save(result, data)
        shown = read_in_chromium(models_dir, digits.strokes)
    truth = [str(d) for d in digits.labels]
    return {
        "digits": len(digits),
        "accuracy": round(float(np.mean([s == t for s, t in zip(shown, truth, strict=True)])), 4),
        "agrees_with_offline": round(
            float(np.mean([s == str(o) for s, o in zip(shown, offline, strict=True)])), 4
        ),
        "unanswered": int(sum(s == "none" for s in shown)),
        "misread": [f"{t} read as {s}" for s, t in zip(shown, truth, strict=True) if s != t],
    }


def judge_cached(models_dir: str, out_path: str) -> int:
    """The cached default model on every pen writer it did not learn from."""
    import keras

    from mnist_viz.core.cache import ModelCache
    from mnist_viz.core.model import predict_proba

    # read directly, not through the cache's checks: an older recipe's model can be judged too
    cache = ModelCache(models_dir)
    model = keras.saving.load_model(cache.model_path, compile=False, safe_mode=True)
    config = json.loads(cache.info_path.read_text(encoding="utf-8"))["config"]
    pen = load_pen_digits()
    if config.get("data_mix", "mnist") != "mnist":
        pen = pen.of_writers(config.get("pen_held_out", []))
    if len(pen) == 0:
        print("this model learned from every pen writer: nothing to judge it on honestly")
        return 1
    out = {"model": str(models_dir), "digits": len(pen), "writers": len(np.unique(pen.writers))}
    for rendering in RENDERINGS:
        guess = predict_proba(model, read_as_the_app_does(pen, rendering)).argmax(1)
        correct = guess == pen.labels
        out[rendering] = {
            "accuracy": round(float(correct.mean()), 4),
            "per_class": per_class(pen.labels, correct),
            "confusions": confusions(pen.labels, guess),
        }
    print(json.dumps(out, indent=1))
    save_to(out_path, out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mix", default="mnist+pen", help="the training data mix")
    parser.add_argument("--folds", type=int, default=5, help="folds of writers")
    parser.add_argument("--only", type=int, nargs="*", help="run only these folds (0-based)")
    parser.add_argument("--seed", type=int, default=0, help="the recipe's seed")
    parser.add_argument("--set", nargs="*", default=[], help="recipe overrides, e.g. epochs=3")
    parser.add_argument("--out", default=str(RESULTS), help="where the JSON goes ('-': nowhere)")
    parser.add_argument(
        "--browser",
        type=int,
        default=0,
        metavar="N",
        help="also draw N of the first fold's unseen digits (N/10 of each) on the real canvas in "
        "Chromium and read the app's answers",
    )
    parser.add_argument(
        "--cached",
        metavar="MODELS_DIR",
        help="judge this folder's cached mnist_cnn instead of training (on the writers it never "
        "saw: all of them for a model trained on MNIST alone)",
    )
    args = parser.parse_args(argv)
    if args.cached:
        return judge_cached(args.cached, args.out)

    from mnist_viz.core.data import load_mnist
    from mnist_viz.core.model import predict_proba
    from mnist_viz.core.training import TrainConfig, train_model

    data = load_mnist()
    pen = load_pen_digits()
    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    folds = writer_folds(pen.writers, args.folds)
    chosen = args.only if args.only is not None else range(len(folds))
    predictions = {r: np.full(len(pen), -1) for r in RENDERINGS}
    fold_reports = []
    for f in chosen:
        held_out = [int(w) for w in folds[f]]
        config = replace(
            TrainConfig(), data_mix=args.mix, seed=args.seed, pen_held_out=tuple(held_out)
        )
        config = replace(config, **overrides)
        start = time.perf_counter()
        result = train_model(data, config)
        seconds = time.perf_counter() - start
        mask = np.isin(pen.writers, held_out)
        unseen = pen.subset(mask)
        report = {
            "fold": f,
            "writers": held_out,
            "mnist_accuracy": round(result.test_accuracy, 4),
            "training_seconds": round(result.seconds, 1),
            "seconds_with_data": round(seconds, 1),
        }
        for rendering in RENDERINGS:
            guess = predict_proba(result.model, read_as_the_app_does(unseen, rendering)).argmax(1)
            predictions[rendering][mask] = guess
            report[rendering] = round(float(np.mean(guess == unseen.labels)), 4)
        if args.browser and not fold_reports:
            report["browser"] = in_chromium(result, data, unseen, args.browser, args.seed)
        print(json.dumps(report), flush=True)
        fold_reports.append(report)

    judged = predictions[HEADLINE] >= 0
    labels, writers = pen.labels[judged], pen.writers[judged]
    out = {
        "what": "UCI pen-based digits (training writers), each writer judged by a network that "
        "did not see them (leave-writers-out folds); drawn on the canvas, read by to_mnist",
        "mix": args.mix,
        "overrides": overrides,
        "digits": int(judged.sum()),
        "writers": len(np.unique(writers)),
        "folds": fold_reports,
        "mnist_accuracy_mean": round(
            float(np.mean([r["mnist_accuracy"] for r in fold_reports])), 4
        ),
    }
    for rendering, guessed in predictions.items():
        correct = guessed[judged] == labels
        out[rendering] = {
            "accuracy": round(float(correct.mean()), 4),
            "per_class": per_class(labels, correct),
            "confusions": confusions(labels, guessed[judged]),
        }
    correct = predictions[HEADLINE][judged] == labels
    out["per_writer"] = {
        int(w): round(float(correct[writers == w].mean()), 4) for w in np.unique(writers)
    }
    guessed = predictions[HEADLINE][judged]
    out["misread_by_writer"] = {
        int(w): confusions(labels[writers == w], guessed[writers == w], top=4)
        for w in np.unique(writers)
        if out["per_writer"][int(w)] < 0.98
    }
    print(json.dumps({k: v for k, v in out.items() if k != "folds"}, indent=1))
    save_to(args.out, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
