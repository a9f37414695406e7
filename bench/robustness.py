"""Test accuracy under attack: the README's table of adversarial figures, measured on cached models.

FGSM on all 10,000 MNIST test images; PGD with 40 steps of 2.5 epsilon / 40 (no random start) on
the first 1,000; L-infinity epsilon on pixels in [0, 1]. Writes ``bench/results/robustness.json``.

    MNIST_DATA=../shared/data/mnist .venv/bin/python bench/robustness.py \
        [--models-dir DIR] [--names mnist_cnn mnist_cnn_adversarial]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.saved import save_to  # noqa: E402
from mnist_viz.adversarial import attacks  # noqa: E402
from mnist_viz.core.cache import ModelCache, model_label  # noqa: E402
from mnist_viz.core.data import load_mnist  # noqa: E402
from mnist_viz.core.model import predict_proba  # noqa: E402

EPSILONS = (0.1, 0.2, 0.3)
PGD_IMAGES, PGD_STEPS = 1000, 40
RESULTS = ROOT / "bench" / "results" / "robustness.json"


def measure(model, x: np.ndarray, y: np.ndarray) -> dict:
    """Clean accuracy, FGSM accuracy on all of ``x`` and PGD-40 accuracy on its first 1,000."""
    out = {"clean": float(np.mean(predict_proba(model, x).argmax(1) == y))}
    fgsm = attacks.robustness_curve(model, x, y, EPSILONS)
    for epsilon, accuracy in zip(EPSILONS, fgsm, strict=True):
        out[f"fgsm_{epsilon}"] = float(accuracy)
    xs, ys = x[:PGD_IMAGES], y[:PGD_IMAGES]
    for epsilon in EPSILONS:
        adv = attacks.pgd(model, xs, ys, epsilon, steps=PGD_STEPS)
        out[f"pgd40_{epsilon}"] = float(np.mean(predict_proba(model, adv).argmax(1) == ys))
    return {k: round(v, 4) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models-dir", help="model cache folder (default: models/)")
    parser.add_argument("--names", nargs="+", default=["mnist_cnn", "mnist_cnn_adversarial"])
    parser.add_argument("--out", default=str(RESULTS), help="where the JSON goes ('-': nowhere)")
    args = parser.parse_args(argv)
    data = load_mnist()
    x, y = data.x_test / 255.0, np.asarray(data.y_test)
    rows = []
    for name in args.names:
        cached = ModelCache(args.models_dir, name).load()
        start = time.perf_counter()
        row = {
            "name": name,
            "model": model_label(cached.info),
            "recipe": {k: v for k, v in cached.info.config.items() if k != "arch"},
            "training_seconds": cached.info.training_seconds,
            **measure(cached.model, x, y),
            "seconds": round(time.perf_counter() - start, 1),
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    out = {"test_images": len(y), "pgd_images": PGD_IMAGES, "pgd_steps": PGD_STEPS, "rows": rows}
    save_to(args.out, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
