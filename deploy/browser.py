"""Debian's Chromium, as the tests and the benchmarks start it: one place for its path, its flags
and the canvas's selector, so the two cannot drift apart.

    from deploy.browser import launch
    browser = launch(playwright)            # sync API
    browser = await launch(playwright)      # async API (launch returns the coroutine)

``playwright install`` cannot download a browser here; ``CHROMIUM`` (default
``/usr/bin/chromium``) names the one to drive. The app server is started by
``deploy.classroom.Classroom`` (one server, or replicas behind nginx) for both as well.
"""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # every student's page is a foreground page: no timer throttling of "hidden" tabs
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
# The drawing pad's top canvas (streamlit-drawable-canvas 0.13.0, in its component's shadow root).
CANVAS = "[data-testid='stBidiComponentIsolated'] canvas.upper-canvas"


def launch(playwright, executable: str | None = None, **options):
    """``playwright.chromium.launch`` of Debian's Chromium with the shared flags (a coroutine
    under playwright's async API)."""
    return playwright.chromium.launch(
        executable_path=executable or CHROMIUM, args=CHROMIUM_ARGS, **options
    )
