"""Median latency of one prediction, and of one prediction plus every layer's activations.

Uses the cached model (trains it first if there is none).

    MNIST_DATA=../shared/data/mnist .venv/bin/python bench/inference.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.saved import save
from mnist_viz.core.activations import build_activation_model, layer_activations
from mnist_viz.core.cache import ModelCache
from mnist_viz.core.data import load_mnist
from mnist_viz.core.model import predict_proba, to_model_input

RUNS = 300
WARMUP = 20


def median_ms(fn, runs: int = RUNS) -> float:
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    data = load_mnist()
    model = ModelCache().load_or_train(lambda: data).model
    image = data.x_test[0]
    activation_model = build_activation_model(model)
    results = {
        "one prediction (predict_proba, traced model call)": median_ms(
            lambda: predict_proba(model, image)
        ),
        "one prediction + every layer (layer_activations)": median_ms(
            lambda: layer_activations(activation_model, image)
        ),
        "one prediction, model.predict(x) (for comparison)": median_ms(
            lambda: model.predict(to_model_input(image), verbose=0), runs=50
        ),
    }
    print(f"Median latency over {RUNS} runs ({os.cpu_count()} CPU cores):")
    for name, ms in results.items():
        print(f"  {name:52s} {ms:7.2f} ms")
    save("inference", {"runs": RUNS, "median_ms": {k: round(v, 2) for k, v in results.items()}})


if __name__ == "__main__":
    main()
