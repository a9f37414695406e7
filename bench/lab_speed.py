"""The adversarial lab's two speed targets, on the cached standard model:

1. releasing the epsilon slider updates the rest of the page (the layer-by-layer view) in at most
   100 ms after the first release for a digit (timed with AppTest, which reruns the whole page).
   Moving the slider itself needs no server at all (the sweep is in the browser); that latency is
   measured in Chromium by bench/under_load.py;
2. an FGSM robustness curve over all 10,000 test images at 11 epsilons in at most 10 s.

    MNIST_DATA=../shared/data/mnist .venv/bin/python bench/lab_speed.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


from bench.app_pages import app_with_a_test_digit  # noqa: E402
from bench.saved import save  # noqa: E402
from mnist_viz.adversarial.attacks import FGSM  # noqa: E402
from mnist_viz.adversarial.lab import ROBUSTNESS_EPSILONS, measure_robustness  # noqa: E402
from mnist_viz.core.cache import ModelCache  # noqa: E402
from mnist_viz.core.data import load_mnist  # noqa: E402

SLIDER_TARGET_MS = 100
CURVE_TARGET_S = 10
POSITIONS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.1, 0.2, 0.3, 0.05, 0.15, 0.25]


def slider_times(index: int) -> list[float]:
    at = app_with_a_test_digit(index)
    at.switch_page("pages/adversarial.py").run()
    at.session_state["lab_sweep"] = {"epsilon": 0.0}  # the slider component's value
    at.run()  # the first release for this digit
    times = []
    for epsilon in POSITIONS:
        start = time.perf_counter()
        at.session_state["lab_sweep"] = {"epsilon": epsilon}
        at.run()
        times.append((time.perf_counter() - start) * 1000)
        if at.exception:
            raise SystemExit(f"the page raised: {at.exception[0].value}")
    return times


def main() -> None:
    cached = ModelCache().load_or_train(load_mnist)
    slider_times(2)  # warm-up: the first page in a process loads the model, data and traces
    releases = []
    for index in (0, 1):
        times = slider_times(index)
        releases += times
        verdict = "meets" if statistics.median(times) <= SLIDER_TARGET_MS else "MISSES"
        print(
            f"slider release, test digit #{index}: median {statistics.median(times):.0f} ms, "
            f"max {max(times):.0f} ms over {len(times)} releases "
            f"({', '.join(f'{t:.0f}' for t in times)}): {verdict} the "
            f"{SLIDER_TARGET_MS} ms target"
        )
    data = load_mnist()
    measure_robustness(cached.model, data, FGSM)  # warm-up: traces the gradient function
    curve = measure_robustness(cached.model, data, FGSM)
    verdict = "meets" if curve.seconds <= CURVE_TARGET_S else "MISSES"
    print(
        f"FGSM robustness curve, {curve.images:,} images x {len(ROBUSTNESS_EPSILONS)} epsilons: "
        f"{curve.seconds:.1f} s: {verdict} the {CURVE_TARGET_S} s target"
    )
    print(
        "accuracy:",
        ", ".join(
            f"{e:.2f}: {a:.2%}" for e, a in zip(curve.epsilons, curve.accuracies, strict=True)
        ),
    )
    save(
        "lab_speed",
        {
            "slider_release": {
                "timer": "AppTest (a proxy: no browser)",
                "releases": len(releases),
                "median_ms": round(statistics.median(releases)),
                "max_ms": round(max(releases)),
                "releases_ms": [round(t, 1) for t in releases],
            },
            "fgsm_curve": {
                "images": curve.images,
                "epsilons": len(curve.epsilons),
                "seconds": round(curve.seconds, 1),
                "accuracies": [round(a, 4) for a in curve.accuracies],
            },
        },
    )


if __name__ == "__main__":
    main()
