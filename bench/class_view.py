"""How long the teacher's class view takes with a full class: 30 students and 2,000 drawings
(labelled, a third shared) in the class's database, measured in Chromium on the real server.

The teacher signs in once; then the page is opened again and again from the sidebar. Measured:
from the click to the class view being complete on screen (its metrics, the confusion matrix,
the export buttons, and Streamlit's running indicator gone), and the server's CPU for each
opening (from /proc). The live part refreshes every 3 s; its CPU per refresh is measured too,
over a quiet minute.

    .venv/bin/python bench/class_view.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.saved import save  # noqa: E402
from deploy.browser import launch, version  # noqa: E402
from deploy.classroom import Classroom  # noqa: E402

PASSWORD = "a long benchmark password"
OPENINGS = 8
QUIET_SECONDS = 30


def seed(url: str, students: int, drawings: int) -> None:
    """A class with ``students`` and ``drawings`` labelled drawings of MNIST test digits."""
    from mnist_viz.classroom import quotas
    from mnist_viz.classroom.classwork import ClassWork
    from mnist_viz.classroom.store import Store
    from mnist_viz.core.data import load_mnist

    data = load_mnist(os.environ.get("MNIST_DATA") or ROOT.parent / "shared" / "data" / "mnist")
    quotas.DRAWINGS_PER_MINUTE = drawings  # a seeded term's work, saved in seconds
    store = Store(url)
    store.migrate()
    work = ClassWork(store)
    work.ensure()
    ids = [work.join(f"student{i:02d}")[0].id for i in range(students)]
    rng = np.random.default_rng(0)
    for n in range(drawings):
        i = int(rng.integers(len(data.y_test)))
        predicted = int(data.y_test[i]) if rng.random() > 0.1 else int(rng.integers(10))
        student = ids[n % students]
        saved = work.save_drawing(student, data.x_test[i], predicted, 0.9, "seed", source="drawing")
        work.set_label(student, saved, int(data.y_test[i]))
        if n % 3 == 0:
            work.set_shared(student, saved, True)
    store.close()


def main() -> int:
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="mnist-viz-class-view-"))
    database = f"sqlite:///{folder / 'class.sqlite3'}"
    seed(database, 30, 2000)
    env = {
        "MNIST_VIZ_MODELS_DIR": os.environ.get("MNIST_VIZ_MODELS_DIR", str(ROOT / "models")),
        "MNIST_VIZ_DATA_DIR": str(folder),
        "MNIST_VIZ_TEACHER_PASSWORD": PASSWORD,
    }
    openings, cpu_per_opening = [], []
    with Classroom(replicas=0, env=env, cores="0") as server, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(server.url + "/class-view")
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.locator("summary").filter(has_text="For the teacher").click(timeout=120_000)
        sidebar.get_by_label("Teacher password").fill(PASSWORD)
        sidebar.get_by_role("button", name="Sign in").click()
        page.get_by_text("Export the class's drawings (CSV)").wait_for(timeout=120_000)
        nav = page.locator("[data-testid='stSidebarNav'] a")
        status = page.locator("[data-testid='stStatusWidget']")
        for i in range(OPENINGS + 1):
            nav.filter(has_text="Draw & predict").click()
            page.get_by_role("heading", name="Draw & predict").first.wait_for(timeout=60_000)
            status.wait_for(state="hidden", timeout=60_000)
            page.wait_for_timeout(500)
            cpu = server.cpu_seconds()
            start = time.perf_counter()
            nav.filter(has_text="The class (teacher)").click()
            page.get_by_text("Export the class's drawings (CSV)").wait_for(timeout=60_000)
            page.locator("[data-testid='stMetric']").filter(has_text="Drawings saved").wait_for()
            page.locator("[data-testid='stDataFrame']").first.wait_for()
            status.wait_for(state="hidden", timeout=60_000)
            took = time.perf_counter() - start
            if i:  # the first opening warms the caches
                openings.append(took)
                cpu_per_opening.append(server.cpu_seconds() - cpu)
        saved = page.locator("[data-testid='stMetric']").filter(has_text="Drawings saved")
        shown = saved.locator("[data-testid='stMetricValue']").inner_text()
        cpu = server.cpu_seconds()
        time.sleep(QUIET_SECONDS)  # the live part refreshes on its own
        quiet_cpu = server.cpu_seconds() - cpu
        browser.close()
    report = {
        "students": 30,
        "drawings": 2000,
        "drawings_shown": shown,
        "openings": len(openings),
        "open_median_s": round(statistics.median(openings), 3),
        "open_max_s": round(max(openings), 3),
        "server_cpu_ms_per_opening": round(1000 * statistics.median(cpu_per_opening), 1),
        "server_cpu_ms_per_second_while_open": round(1000 * quiet_cpu / QUIET_SECONDS, 1),
        "chromium": version(),
        "note": "a real Chromium page; the server pinned to core 0, the browser on core 1; "
        "from the click in the sidebar to the page complete and idle",
    }
    print(json.dumps(report, indent=1))
    save("class_view", report)  # marked with the commit it ran on
    return 0


if __name__ == "__main__":
    sys.exit(main())
