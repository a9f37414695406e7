"""How well a model reads digits by SYNTHETIC writers: a proxy for development, not people.

The drawings are ``bench/strokes.py``'s generated writers (many styles per digit, each writer with
their own habits), rendered as the canvas renders pen strokes, and again as a coarse pen tablet
records them (8 positions along each stroke, drawn back as coarse polylines), each read through
``to_mnist`` exactly as the app reads a drawing. Real people's digits are judged by
``bench/pen_digits.py``; tuning to this proxy once made the real figure worse. Prints accuracy, per-class accuracy and the most frequent confusions, beside
the same model's figures on MNIST's test set and on the UCI digits (43 other writers, shipped by
scikit-learn). With ``--browser N``, the first N drawings are also drawn stroke by stroke on the
real canvas in Chromium, and the app's answers are compared with the offline ones.

    MNIST_DATA=../shared/data/mnist .venv/bin/python bench/drawn_digits.py [--models-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.saved import save_to  # noqa: E402
from bench.strokes import Drawing, handwriting, render, tablet  # noqa: E402
from mnist_viz.core.cache import STANDARD_MODEL, ModelCache  # noqa: E402
from mnist_viz.core.model import Evaluation, evaluate  # noqa: E402
from mnist_viz.core.preprocess import to_mnist  # noqa: E402

WRITERS, PER_DIGIT, SEED = 40, 5, 2026  # 2,000 drawings
RESULTS = ROOT / "bench" / "results" / "drawn_digits.json"


def drawn_set(
    writers: int = WRITERS, per_digit: int = PER_DIGIT, seed: int = SEED, recorded: bool = False
):
    """(images (N, 28, 28) as the app reads them, labels, the drawings); ``recorded``: each
    drawing as an 8-point pen-tablet recording drawn back (the harder, coarser version)."""
    drawings = handwriting(writers, per_digit, seed)
    images = np.stack(
        [to_mnist(render(tablet(d.strokes) if recorded else d.strokes)) for d in drawings]
    )
    return images, np.array([d.digit for d in drawings]), drawings


def uci_digits() -> tuple[np.ndarray, np.ndarray]:
    """The UCI digits (scikit-learn's 8x8 scans), enlarged and read like an upload."""
    from PIL import Image
    from sklearn.datasets import load_digits

    uci = load_digits()
    images = (uci.images / 16.0 * 255).astype(np.uint8)
    big = [
        np.asarray(Image.fromarray(i).resize((160, 160), Image.Resampling.BICUBIC)) for i in images
    ]
    return np.stack([to_mnist(b) for b in big]), uci.target


def confusions(result: Evaluation, top: int = 5) -> list[str]:
    off = result.confusion * (1 - np.eye(10, dtype=np.int64))
    order = np.argsort(off, axis=None)[::-1][:top]
    return [
        f"{t} read as {p}: {off[t, p]}"
        for t, p in zip(*np.unravel_index(order, off.shape), strict=True)
        if off[t, p]
    ]


def report(model, with_mnist: bool = True) -> dict:
    out = {}
    for name, recorded in (("drawn", False), ("tablet", True)):
        images, labels, _ = drawn_set(recorded=recorded)
        result = evaluate(model, images, labels)
        out[f"{name}_accuracy"] = round(result.accuracy, 4)
        out[f"{name}_per_class"] = [round(float(a), 3) for a in result.per_class_accuracy]
        out[f"{name}_confusions"] = confusions(result)
    uci_images, uci_labels = uci_digits()
    out["uci_accuracy"] = round(evaluate(model, uci_images, uci_labels).accuracy, 4)
    if with_mnist:
        from mnist_viz.core.data import load_mnist

        data = load_mnist()
        mnist = evaluate(model, data.x_test, data.y_test)
        out["mnist_accuracy"] = round(mnist.accuracy, 4)
        out["mnist_per_class"] = [round(float(a), 4) for a in mnist.per_class_accuracy]
        out["mnist_confusions"] = confusions(mnist)
    return out


async def _draw_in_browser(drawings: list[Drawing], models_dir: str | None) -> list[str]:
    """Draw each on the app's canvas in Chromium; the predictions the app shows."""
    from playwright.async_api import async_playwright

    from bench.classroom import WAIT_FOR_ANSWER, _stroke
    from deploy.browser import CANVAS, evaluate_and_wait, launch
    from deploy.classroom import Classroom

    env = {"MNIST_VIZ_MODELS_DIR": models_dir} if models_dir else None
    answers = []
    with Classroom(env=env) as server:
        async with async_playwright() as p:
            browser = await launch(p)
            page = await (await browser.new_context()).new_page()
            await page.goto(server.url)
            await page.locator(CANVAS).wait_for(timeout=180_000)
            box = await page.locator(CANVAS).bounding_box()
            clear = page.get_by_role("button", name="Clear", exact=True)
            for drawing in drawings:
                await clear.click()
                await page.get_by_text("Draw a digit").first.wait_for(timeout=30_000)
                for points in drawing.strokes:
                    await _stroke(page, box, points)
                answer = await evaluate_and_wait(
                    page, WAIT_FOR_ANSWER, [len(drawing.strokes), 20_000]
                )
                answers.append(answer["value"] if answer else "none")
            await browser.close()
    return answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models-dir", help="model cache folder (default: models/)")
    parser.add_argument("--name", default=STANDARD_MODEL, help="the cached model's name")
    parser.add_argument("--browser", type=int, default=0, help="also draw N of them in Chromium")
    parser.add_argument("--out", default=str(RESULTS), help="where the JSON goes ('-': nowhere)")
    args = parser.parse_args(argv)
    model = ModelCache(args.models_dir, args.name).load().model
    out = report(model)
    if args.browser:
        images, labels, drawings = drawn_set()
        offline = evaluate(model, images[: args.browser], labels[: args.browser]).predictions
        shown = asyncio.run(_draw_in_browser(drawings[: args.browser], args.models_dir))
        out["browser_drawings"] = args.browser
        out["browser_accuracy"] = round(
            np.mean([s == str(d.digit) for s, d in zip(shown, drawings, strict=False)]), 4
        )
        out["browser_agrees_with_offline"] = round(
            np.mean([s == str(o) for s, o in zip(shown, offline, strict=True)]), 4
        )
    out = {"what": "synthetic writers (bench/strokes.py), not people", **out}
    print(json.dumps(out))
    save_to(args.out, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
