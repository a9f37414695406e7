"""What a hung class database costs a student's page, measured in Chromium on the real server.

Two servers in turn, each with the class sidebar on every page:
- ``sqlite``: the class's records in SQLite (the default: a database that answers);
- ``hung``: a real PostgreSQL whose every process is stopped (SIGSTOP) after the page has
  connected, so the server keeps its sockets open and never answers: a hung server, or one
  behind a partitioned network. It is resumed (SIGCONT) at the end, and the time until a page
  shows the class's join form again is the recovery.

For each, a Chromium page is reloaded and drawn on again and again for ``--seconds``: measured
are the page load (from ``goto`` to the drawing pad on screen with Streamlit's running
indicator gone) and a stroke's answer (from the pen lifting to "Input: your drawing" on screen).

    .venv/bin/python bench/hung_database.py [--seconds 60] [--save]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.saved import save  # noqa: E402
from deploy.browser import CANVAS, launch, version  # noqa: E402
from deploy.classroom import Classroom  # noqa: E402

RESULT = ROOT / "bench" / "results" / "hung_database.json"
RUNNING = "[data-testid='stStatusWidget']"
LOAD_TIMEOUT_MS = 120_000


def _settled(page) -> None:
    page.locator(CANVAS).wait_for(timeout=LOAD_TIMEOUT_MS)
    page.wait_for_timeout(100)
    page.locator(RUNNING).wait_for(state="detached", timeout=LOAD_TIMEOUT_MS)


def _load(page, url: str) -> float:
    start = time.perf_counter()
    page.goto(url)
    _settled(page)
    return time.perf_counter() - start


def _stroke(page) -> float:
    box = page.locator(CANVAS).bounding_box()
    x, top = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2
    page.mouse.move(x, top)
    page.mouse.down()
    for i in range(1, 13):
        page.mouse.move(x, top + i * box["height"] * 0.05)
    start = time.perf_counter()
    page.mouse.up()
    page.get_by_text("Input: your drawing (1 stroke).").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    took = time.perf_counter() - start
    page.locator(RUNNING).wait_for(state="detached", timeout=LOAD_TIMEOUT_MS)
    return took


def _stats(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "n": len(values),
        "median_s": round(statistics.median(ordered), 3),
        "p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "max_s": round(ordered[-1], 3),
    }


def _measure(browser, url: str, seconds: float) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    loads, strokes = [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        loads.append(_load(page, url))
        strokes.append(_stroke(page))
    page.close()
    return {"page_load": _stats(loads), "stroke_answer": _stats(strokes)}


def _processes(server) -> list[int]:
    postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(
        ["pgrep", "-P", str(postmaster)], capture_output=True, text=True
    ).stdout.split()
    return [postmaster, *map(int, children)]


def run(seconds: float) -> dict:
    from playwright.sync_api import sync_playwright

    from deploy.postgres import LocalPostgres

    base = {
        "MNIST_VIZ_MODELS_DIR": os.environ.get("MNIST_VIZ_MODELS_DIR", str(ROOT / "models")),
        "MNIST_DATA": os.environ.get("MNIST_DATA", str(ROOT.parent / "shared" / "data" / "mnist")),
    }
    result: dict = {"seconds_each": seconds, "chromium_version": version()}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        data = tempfile.mkdtemp(prefix="mnist-viz-sqlite-bench-")
        with Classroom(env=base | {"MNIST_VIZ_DATA_DIR": data}) as app:
            _load(browser.new_page(), app.url)  # warm: the model loaded
            result["sqlite"] = _measure(browser, app.url, seconds)
        root = Path(tempfile.mkdtemp(prefix="mnist-viz-hung-bench-"))
        database = LocalPostgres(root).start()
        stopped: list[int] = []
        try:
            env = base | {"MNIST_VIZ_DATABASE_URL": database.url}
            with Classroom(env=env) as app:
                warm = browser.new_page()
                _load(warm, app.url)  # connected: its pool holds a live connection
                stopped = _processes(database)
                for pid in stopped:
                    os.kill(pid, signal.SIGSTOP)
                result["hung"] = _measure(browser, app.url, seconds)
                for pid in stopped:
                    os.kill(pid, signal.SIGCONT)
                resumed, stopped = time.monotonic(), []
                page = browser.new_page()
                while True:  # until a page shows the class's join form again
                    _load(page, app.url)
                    if page.get_by_text("Join under a nickname", exact=False).count():
                        break
                    if time.monotonic() - resumed > 120:
                        raise RuntimeError("the class did not come back within 2 minutes")
                result["recovered_after_s"] = round(time.monotonic() - resumed, 2)
        finally:
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)
            database.stop("immediate")
        browser.close()
    for part in ("page_load", "stroke_answer"):
        result[f"{part}_extra_p95_s"] = round(
            result["hung"][part]["p95_s"] - result["sqlite"][part]["p95_s"], 3
        )
        result[f"{part}_extra_max_s"] = round(
            result["hung"][part]["max_s"] - result["sqlite"][part]["max_s"], 3
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="per server")
    parser.add_argument("--save", action="store_true", help=f"write {RESULT.name}")
    args = parser.parse_args(argv)
    result = run(args.seconds)
    print(json.dumps(result, indent=1))
    if args.save:
        save(RESULT.stem, result)  # marked with the commit it ran on
    return 0


if __name__ == "__main__":
    sys.exit(main())
