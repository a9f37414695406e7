"""Debian's Chromium, as the tests and the benchmarks start it: one place for its path, its flags
and the canvas's selector, so the two cannot drift apart.

    from deploy.browser import launch
    browser = launch(playwright)            # sync API
    browser = await launch(playwright)      # async API (launch returns the coroutine)
    answer = evaluate_and_wait(page, "(n) => new Promise(...)", 3)  # or await it (async API)

``playwright install`` cannot download a browser here; ``CHROMIUM`` (default
``/usr/bin/chromium``) names the one to drive. The app server is started by
``deploy.classroom.Classroom`` (one server, or replicas behind nginx) for both as well.
"""

from __future__ import annotations

import os
import subprocess

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


def version(executable: str | None = None) -> str:
    """What the browser says it is ("Chromium 156.0.8078.114"), for the benchmarks' results: a
    browser figure is measured with one Chromium and says which."""
    out = subprocess.run(
        [executable or CHROMIUM, "--version"], capture_output=True, text=True, timeout=60
    ).stdout.split()
    return " ".join(out[:2]) if out else "unknown"


def launch(playwright, executable: str | None = None, extra_args: tuple[str, ...] = (), **options):
    """``playwright.chromium.launch`` of Debian's Chromium with the shared flags, and
    ``extra_args`` after them (a coroutine under playwright's async API)."""
    return playwright.chromium.launch(
        executable_path=executable or CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args], **options
    )


# Chromium 150's V8 tracks a promise that CDP awaits (``page.evaluate`` of a function returning a
# promise) through a weak handle: a pending promise that nothing in the page references can be
# garbage collected, and the evaluate fails with "Resulting promise was garbage collected"
# (Playwright issue 41826, PR 42019; V8 change 8123081). The page therefore keeps every awaited
# promise in a set on ``window`` until it settles, and drops it then (no leak across waits).
PENDING = "__mvPending"


def retained(function: str) -> str:
    """The JS ``function`` (of one argument, returning a promise or a value) wrapped so that the
    page holds its promise in ``window.__mvPending`` until the promise settles."""
    return (
        "(arg) => {\n"
        f"  const pending = window.{PENDING} || (window.{PENDING} = new Set());\n"
        f"  const promise = Promise.resolve(({function})(arg));\n"
        "  pending.add(promise);\n"
        "  const settled = () => { pending.delete(promise); };\n"
        "  promise.then(settled, settled);\n"
        "  return promise;\n"
        "}"
    )


def evaluate_and_wait(page, function: str, arg=None):
    """``page.evaluate(function, arg)`` for a JS function that returns a promise: the page keeps
    the promise until it settles, so Chromium cannot collect it while Playwright waits. Every
    test and benchmark that awaits a promise in a page goes through here (tests/test_layout.py).
    The sync API returns the value; the async API returns a coroutine."""
    return page.evaluate(retained(function), arg)
