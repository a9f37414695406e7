"""Page switches and the lab's slider (epsilon, and JSMA's pixels changed), alone and while a
class draws: the issue asks that a class's load keep them within 2x of their single-user times.

One Chromium page (the probe) draws a digit, then visits every page in turn and moves the lab's
epsilon slider, timing each action from the click or key press until the answer is on screen
(for the slider, in the page's own clock: key press to the next frame after the new view).
It does this twice against the same server: alone, and while ``--students`` protocol students
(bench/protocol_student.py) draw on the Draw page as a class does. Server and browser are pinned
to different cores.

    MNIST_DATA=../shared/data/mnist .venv/bin/python bench/under_load.py --students 29
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.app_pages import page_titles  # noqa: E402
from bench.classroom import (  # noqa: E402
    Result,
    _Plan,
    _protocol_student,
    _stroke,
)
from bench.saved import save  # noqa: E402
from deploy.browser import CANVAS, evaluate_and_wait, launch, version  # noqa: E402
from deploy.classroom import Classroom  # noqa: E402

# Every page that shows the drawn digit, the Draw page last (back where the class is); not the
# comparison (a second network to train), My work or the teacher's class view (class pages).
NOT_VISITED = ("Compare two networks", "My work", "The class (teacher)")
PAGES = [t for t in page_titles()[1:] if t not in NOT_VISITED] + page_titles()[:1]
ROUNDS = 3  # rounds of page visits measured, after one warm-up round
SLIDER_MOVES = 12
TIMEOUT_MS = 300_000  # a first visit computes heavy per-model results

PAGE_DONE = """(title) => {
  const heading = [...document.querySelectorAll('h1')].some((h) => h.textContent.trim() === title);
  const running = document.querySelector('[data-testid="stStatusWidget"]');
  const model = [...document.querySelectorAll('[data-testid="stSidebar"] p')]
    .some((p) => p.textContent.includes("on MNIST's test set; learned from"));
  return heading && !running && model;
}"""
# The lab's slider is a component in a shadow root (ui/components/sweep/sweep.js). In the page: from the key
# press to the first frame after the new epsilon is shown, so what is timed is what the eye gets.
SWEEP = """() => [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
  .map((h) => h.shadowRoot).find((r) => r && r.querySelector('.sw'))"""
ARM_SLIDER = f"""() => {{
  const root = ({SWEEP})();
  window.__key = 0;
  window.addEventListener('keydown', () => {{ window.__key = performance.now(); }}, true);
  window.__shown = (wanted) => new Promise((resolve) => {{
    const eps = root.querySelector('.sw-eps');
    const check = () => {{
      if (eps.textContent !== wanted) return false;
      observer.disconnect();
      requestAnimationFrame(() => resolve(performance.now() - window.__key));
      return true;
    }};
    const observer = new MutationObserver(check);
    if (!check()) observer.observe(eps, {{childList: true, characterData: true, subtree: true}});
  }});
  root.querySelector('.sw-range').focus();
}}"""


async def _visit(page, title: str) -> float:
    start = time.perf_counter()
    await page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).click()
    await page.wait_for_function(PAGE_DONE, arg=title, timeout=TIMEOUT_MS, polling="raf")
    return 1000 * (time.perf_counter() - start)


async def _probe(page) -> dict[str, list[float]]:
    """Page switch and slider times (ms) for one pass of the probe."""
    await _visit(page, "Draw & predict")
    box = await page.locator(CANVAS).bounding_box()
    await page.get_by_role("button", name="Clear", exact=True).click()
    await _stroke(page, box, [(145, 40), (141, 140), (137, 240)])  # a 1
    await page.get_by_text("Input: your drawing (1 stroke)").first.wait_for(timeout=TIMEOUT_MS)
    for title in PAGES:  # warm-up: first visits compute per-model results once
        await _visit(page, title)
    switches = [await _visit(page, title) for _ in range(ROUNDS) for title in PAGES]
    await _visit(page, "Adversarial lab")
    epsilon = await slider_moves(page, "FGSM", SLIDER_MOVES)
    jsma = await slider_moves(page, "JSMA", SLIDER_MOVES)
    await page.get_by_role("radio", name="FGSM").click()  # the next pass starts as the first
    return {"page switch": switches, "epsilon slider": epsilon, JSMA_SLIDER: jsma}


JSMA_SLIDER = "JSMA slider"
# attack: (its slider's accessible name, the text the slider shows after i presses from Home)
SLIDER_AXES = {
    "FGSM": ("epsilon", lambda i: f"{i / 100:.2f}"),
    "JSMA": ("pixels changed", lambda i: str(2 * i)),  # JSMA changes two pixels per step
}


async def slider_moves(page, attack: str, moves: int) -> list[float]:
    """In the lab, choose ``attack`` and time ``moves`` key presses on its slider (ms, in the
    page's clock: key press to the first frame after the new view). JSMA's images are 4x
    larger, each changed pixel outlined."""
    name, shown_after = SLIDER_AXES[attack]
    choice = page.get_by_role("radio", name=attack)
    if await choice.get_attribute("aria-checked") != "true":  # a click on it would unselect it
        await choice.click()
    await page.get_by_role("slider", name=name).wait_for(timeout=TIMEOUT_MS)
    await page.evaluate(ARM_SLIDER)
    await page.keyboard.press("Home")
    await evaluate_and_wait(page, "(w) => window.__shown(w)", shown_after(0))
    times = []
    for i in range(1, moves + 1):
        shown = asyncio.ensure_future(
            evaluate_and_wait(page, "(w) => window.__shown(w)", shown_after(i))
        )
        await asyncio.sleep(0.05)  # the page is waiting for the new view before the key goes
        await page.keyboard.press("ArrowRight")
        times.append(await shown)
        await asyncio.sleep(0.3)
    return times


async def _measure(url: str, students: int) -> dict[str, list[float]]:
    from playwright.async_api import async_playwright

    result = Result(students, 0, 0, 1)
    plan = _Plan(0, minutes=60)  # the class draws until the probe is done
    ready_count, go = 0, asyncio.Event()

    def ready() -> None:
        nonlocal ready_count
        ready_count += 1

    load = [
        asyncio.create_task(_protocol_student(url, 100 + i, plan, result, ready, go))
        for i in range(students)
    ]
    while ready_count < students:
        await asyncio.sleep(0.2)
    plan.start()
    go.set()
    async with async_playwright() as p:
        browser = await launch(p)
        page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
        await page.goto(url, timeout=TIMEOUT_MS)
        await page.locator(CANVAS).wait_for(timeout=TIMEOUT_MS)
        await asyncio.sleep(3)  # the class is drawing by now
        times = await _probe(page)
        await browser.close()
    plan.deadline = time.perf_counter()  # the class stops
    await asyncio.gather(*load)
    times["class drawings answered"] = [len(result.protocol_ms), result.missing]
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=29, help="the class besides the probe")
    parser.add_argument("--server-cores", default="0")
    parser.add_argument("--client-cores", default="1")
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {int(c) for c in args.client_cores.split(",")})
    with Classroom(cores=args.server_cores) as server:
        alone = asyncio.run(_measure(server.url, 0))
        loaded = asyncio.run(_measure(server.url, args.students))
    report = {"chromium": version()}
    for what in ("page switch", "epsilon slider", JSMA_SLIDER):
        a, b = statistics.median(alone[what]), statistics.median(loaded[what])
        report[what] = {
            "alone_median_ms": round(a),
            "class_median_ms": round(b),
            "alone_max_ms": round(max(alone[what])),
            "class_max_ms": round(max(loaded[what])),
            "ratio": round(b / a, 2),
        }
    answered, missing = loaded["class drawings answered"]
    report["class"] = {"students": args.students, "answered": answered, "missing": missing}
    print(json.dumps(report))
    save("under_load", report)
    ok = all(report[w]["ratio"] <= 2 for w in ("page switch", "epsilon slider", JSMA_SLIDER))
    return 0 if ok and missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
