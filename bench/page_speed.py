"""How long each page takes to rerun after warm-up, timed with AppTest (the target: 300 ms).

The warm-up run also computes the heavy per-model results (filter images, tuning curves...),
which are cached for every later visit; their one-off cost is printed separately.

Uses the cached model (trains it first if there is none) and a test digit as the current digit.
Each rerun changes a widget, as a user would (another layer, another filter...), so nothing is
served from a browser-side cache; Streamlit caches (model, data, evaluation) are warm, as they
are for every visit after the first.

    MNIST_DATA=../shared/data/mnist .venv/bin/python bench/page_speed.py
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

from streamlit.testing.v1 import AppTest  # noqa: E402

from bench.app_pages import app_with_a_test_digit  # noqa: E402
from bench.saved import save  # noqa: E402
from mnist_viz.core.cache import ModelCache  # noqa: E402
from mnist_viz.core.data import load_mnist  # noqa: E402

TARGET_MS = 300
RERUNS = 12


def timed(action) -> float:
    start = time.perf_counter()
    at = action()
    elapsed = (time.perf_counter() - start) * 1000
    if at.exception:
        raise SystemExit(f"the page raised: {at.exception[0].value}")
    return elapsed


def bench_page(path: str, actions) -> tuple[float, list[float]]:
    """The first visit's seconds, and each later rerun's milliseconds."""
    at = app_with_a_test_digit(0)
    start = time.perf_counter()
    at.switch_page(path).run()  # warm-up: loads the model, data and caches
    first = time.perf_counter() - start
    print(f"{path}: first visit {first:.1f} s (heavy results computed once)")
    at.run()
    return first, [timed(lambda i=i: actions(at, i)) for i in range(RERUNS)]


def network_actions(at: AppTest, i: int):
    layers = ["conv1", "pool1", "conv2", "pool2"]
    if i % 3 == 0:
        return at.segmented_control(key="map_layer").set_value(layers[i % 4]).run()
    if i % 3 == 1:
        return at.slider(key="conv2_filter").set_value(i % 64).run()
    return at.toggle(key="per_channel").set_value(i % 2 == 0).run()


def training_actions(at: AppTest, i: int):
    return at.selectbox(key="cm_pred").select((i + 1) % 10).run()


def draw_actions(at: AppTest, i: int):
    return at.slider(key="stroke_width").set_value(10 + i).run()


def why_actions(at: AppTest, i: int):
    return at.selectbox(key="explain_class").select(i % 4).run()


def filters_actions(at: AppTest, i: int):
    return at.slider(key="filters_index_conv1").set_value(i).run()


def cortex_actions(at: AppTest, i: int):
    if i % 2:
        return at.slider(key="ephys_unit_conv1").set_value(i).run()
    return (
        at.segmented_control(key="ephys_stimulus").set_value(["grating", "bar"][i // 2 % 2]).run()
    )


def main() -> None:
    ModelCache().load_or_train(load_mnist)
    results, saved = {}, {}
    for name, path, actions in [
        ("Inside the network", "pages/network.py", network_actions),
        ("Training & evaluation", "pages/training.py", training_actions),
        ("Draw & predict", "pages/draw.py", draw_actions),
        ("Why this prediction", "pages/why.py", why_actions),
        ("What filters want", "pages/filters.py", filters_actions),
        ("Network and cortex", "pages/cortex.py", cortex_actions),
    ]:
        first, times = bench_page(path, actions)
        results[name] = times
        saved[name] = {
            "first_visit_s": round(first, 2),
            "median_ms": round(statistics.median(times)),
            "max_ms": round(max(times)),
            "reruns_ms": [round(t, 1) for t in times],
        }
        print(
            f"{name:24s} rerun: median {statistics.median(times):6.1f} ms, "
            f"max {max(times):6.1f} ms over {len(times)} reruns "
            f"({', '.join(f'{t:.0f}' for t in times)})"
        )
    for name, times in results.items():
        verdict = "meets" if statistics.median(times) <= TARGET_MS else "MISSES"
        print(
            f"{name} {verdict} the {TARGET_MS} ms target (median {statistics.median(times):.0f} ms)."
        )
    save("page_speed", {"timer": "AppTest (a proxy: no browser)", "pages": saved})


if __name__ == "__main__":
    main()
