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

import asyncio
import inspect
import os
import subprocess
import time

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
# promise) through a weak handle, and can collect it while Playwright waits: the evaluate fails
# with "Resulting promise was garbage collected" (Playwright issue 41826, PR 42019; V8 change
# 8123081). Keeping our own promise referenced from ``window`` was not enough: Playwright awaits
# a wrapper of its own around it, and the waits still failed now and then on Chromium 150 (a
# classroom run of 3 students, 1 time in 3). So no CDP call here awaits a promise at all: the page
# starts the wait and keeps its promise in ``window.__mvPending`` (by id) until it settles, then
# keeps the outcome in ``window.__mvResults`` until asked; Python asks every ``POLL_S``. (The
# moment a wait ends is taken in the page by the function itself, so polling adds nothing to a
# measured time.)
PENDING = "__mvPending"
RESULTS = "__mvResults"
POLL_S = 0.05


def start_wait(function: str) -> str:
    """JS of one argument: starts ``function(arg)`` (which returns a promise or a value) in the
    page and returns the wait's id at once; the outcome is kept for ``TAKE_OUTCOME``."""
    return (
        "(arg) => {\n"
        f"  const pending = window.{PENDING} || (window.{PENDING} = new Map());\n"
        f"  const results = window.{RESULTS} || (window.{RESULTS} = new Map());\n"
        "  const id = (window.__mvLastWait = (window.__mvLastWait || 0) + 1);\n"
        "  let promise;  // the function's own promise (Promise.resolve returns it): held\n"
        f"  try {{ promise = Promise.resolve(({function})(arg)); }}\n"
        "  catch (error) { promise = Promise.reject(error); }\n"
        "  pending.set(id, promise);\n"
        "  promise.then(\n"
        "    (value) => { pending.delete(id); results.set(id, {ok: true, value}); },\n"
        "    (error) => { pending.delete(id);\n"
        "      results.set(id, {ok: false, error: String((error && error.message) || error)}); });\n"
        "  return id;\n"
        "}"
    )


# The outcome of a wait, once (then forgotten); null while pending; {gone: true} when the page
# no longer knows the wait (the document was replaced: a reload or a navigation).
TAKE_OUTCOME = f"""(id) => {{
  const results = window.{RESULTS}, pending = window.{PENDING};
  if (results && results.has(id)) {{ const out = results.get(id); results.delete(id); return out; }}
  return pending && pending.has(id) ? null : {{gone: true}};
}}"""


def _outcome(out: dict):
    from playwright._impl._errors import Error

    if out.get("gone"):
        raise Error("the page was replaced while waiting (a reload or a navigation)")
    if not out["ok"]:
        raise Error(out["error"])
    return out.get("value")


def evaluate_and_wait(page, function: str, arg=None, timeout_s: float = 600.0):
    """The value of the JS ``function(arg)``, which may return a promise: started in the page and
    asked for every ``POLL_S``, so that no CDP call awaits a promise Chromium could collect. A
    rejection raises playwright's ``Error`` with its message. Every test and benchmark that waits
    on a promise in a page goes through here (tests/test_layout.py). The sync API returns the
    value; the async API returns a coroutine."""
    if inspect.iscoroutinefunction(page.evaluate):
        return _evaluate_and_wait_async(page, function, arg, timeout_s)
    wait = page.evaluate(start_wait(function), arg)
    deadline = time.monotonic() + timeout_s
    while (out := page.evaluate(TAKE_OUTCOME, wait)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no outcome in the page after {timeout_s} s")
        page.wait_for_timeout(POLL_S * 1000)
    return _outcome(out)


async def _evaluate_and_wait_async(page, function: str, arg, timeout_s: float):
    wait = await page.evaluate(start_wait(function), arg)
    deadline = time.monotonic() + timeout_s
    while (out := await page.evaluate(TAKE_OUTCOME, wait)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no outcome in the page after {timeout_s} s")
        await asyncio.sleep(POLL_S)
    return _outcome(out)
