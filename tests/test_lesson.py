"""A short lesson in real browsers (``bench/lesson.py``, 3 minutes): Chromium students who render
every page beside protocol students, through nginx to two replicas with one restarted, the
teacher's class view open, pushes and a challenge. Every check of the full benchmark must hold,
except memory (3 minutes are mostly warm-up; the 20-minute runs judge it)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.timeout(1200)
def test_a_short_lesson_in_real_browsers(mnist_model_dir, official_mnist_path):
    from conftest import chromium_or_skip

    chromium_or_skip()
    from bench.lesson import failures, run

    result = run(
        minutes=3,
        database="sqlite",
        browsers=2,
        protocol=6,
        pushes=3,
        models_dir=str(mnist_model_dir),
        mnist_data=str(official_mnist_path),
    )
    chromium = result["chromium"]
    print({k: v for k, v in chromium.items() if k not in ("heap_growth", "heap_mb_first_last")})
    assert chromium["answers_checked"] >= 10 and chromium["taps"] >= 5
    assert result["pushes"] == 4  # three test digits and the challenge's
    assert failures(result, judge_memory=False) == []
