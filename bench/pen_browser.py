"""Real pen trajectories drawn on the app's real canvas in Chromium, and the answers the page shows.

Each recorded digit is placed on the 280-px canvas (longer side ``SIDE`` px, centred) and drawn
stroke by stroke: the mouse goes down at the first recorded position, moves to every other one
in turn (so the canvas's brush gets exactly the tablet's positions, 100 ms apart in the original)
and lifts at the last. The app reads each stroke the moment the pen lifts; the answer for a
drawing of n strokes is the "Prediction" metric shown with "Input: your drawing (n strokes)".
Used by ``bench/pen_digits.py --browser`` and ``tests/test_full_training.py``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.classroom import WAIT_FOR_ANSWER  # noqa: E402
from deploy.browser import CANVAS, evaluate_and_wait, launch  # noqa: E402
from mnist_viz.core.pendigits import placed  # noqa: E402
from mnist_viz.core.strokes import CANVAS as CANVAS_SIZE  # noqa: E402

SIDE = 200  # the digit's longer side on the canvas, pixels


def canvas_positions(
    strokes: list[np.ndarray], side: float = SIDE
) -> list[list[tuple[float, float]]]:
    """The recorded strokes as canvas positions: longer side ``side`` px, in the middle."""
    xy = placed(strokes, side, 0.0)
    offset = (CANVAS_SIZE - np.concatenate(xy).max(axis=0)) / 2
    return [[(float(x), float(y)) for x, y in s + offset] for s in xy]


async def _draw(page, box, positions: list[tuple[float, float]]) -> None:
    await page.mouse.move(box["x"] + positions[0][0], box["y"] + positions[0][1])
    await page.mouse.down()
    for x, y in positions[1:]:
        await page.mouse.move(box["x"] + x, box["y"] + y)
    await page.mouse.up()


async def draw_in_chromium(url: str, digits: list[list[np.ndarray]]) -> list[str]:
    """Draw each digit (its recorded strokes) on the app at ``url``; the predictions it shows
    ("none" where no answer came within 20 s)."""
    from playwright.async_api import async_playwright

    answers = []
    async with async_playwright() as p:
        browser = await launch(p)
        page = await (
            await browser.new_context(viewport={"width": 1280, "height": 1000})
        ).new_page()
        await page.goto(url)
        await page.locator(CANVAS).wait_for(timeout=180_000)
        box = await page.locator(CANVAS).bounding_box()
        clear = page.get_by_role("button", name="Clear", exact=True)
        for strokes in digits:
            await clear.click()
            await page.get_by_text("Draw a digit").first.wait_for(timeout=30_000)
            for positions in canvas_positions(strokes):
                await _draw(page, box, positions)
            answer = await evaluate_and_wait(page, WAIT_FOR_ANSWER, [len(strokes), 20_000])
            answers.append(answer["value"] if answer else "none")
        await browser.close()
    return answers


def read_in_chromium(
    models_dir: str, digits: list[list[np.ndarray]], env: dict | None = None
) -> list[str]:
    """Serve the app with the model cached in ``models_dir`` (and ``env``) and draw ``digits``."""
    from deploy.classroom import Classroom

    with Classroom(env={"MNIST_VIZ_MODELS_DIR": str(models_dir)} | (env or {})) as server:
        return asyncio.run(draw_in_chromium(server.url, digits))
