"""A lesson with real browsers: Chromium students who render every page, beside protocol
students, through nginx to two replicas, with the teacher's class view open throughout.

- Chromium students (``bench/lesson_browser.py``), each in its own browser context, pinned with
  the bench to the client core: join, draw real pen-drawn digits (UCI pendigits), label each
  truthfully with one tap, share some, Undo a stray stroke, Clear, visit other pages, reload once.
  After every answer each page is checked as a person sees it; each tap is read back from the
  database; each push notice's first appearance is recorded; the JS heap is sampled every 30 s, after a
  full garbage collection (what the page keeps, not what it has yet to collect), and judged from
  the end of each load's tour of the pages to the next load (``settled_windows``).
- Protocol students (``bench/class_work.py``'s, named as what they are: clients that send what
  a browser sends but render nothing): joined, drawing and labelling.
- The teacher, in Chromium, signed in to the class view: pushes a test digit ``--pushes`` times
  and runs one challenge (which pushes its digit too).
- Replica 0 is restarted half-way, in the moment of one of the pushes; each replica's RSS is
  sampled every 30 s and judged from warm-up to the restart and from a warm-up after it to the
  end (the restart moves half the class onto the other replica). With ``--full-disk`` instead, the class's SQLite is on a small tmpfs that
  fills a third of the way in and is freed at two thirds: no page may show an error box, nothing
  saved before may be lost, and saving must resume.

Afterwards, from the database: every answered drawing is there (with the image the server read,
for the protocol students), and every tap's label is on its drawing. Results go to
``bench/results/lesson_<database>.json`` (``--save``); ``tests/test_lesson.py`` runs a short one.

    .venv/bin/python bench/lesson.py --minutes 20 --database postgres --save
    .venv/bin/python bench/lesson.py --minutes 20 --database sqlite --save
    .venv/bin/python bench/lesson.py --minutes 3 --full-disk --save   # the data disk fills
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import class_work  # noqa: E402
from bench.classroom import _busy_ticks  # noqa: E402
from bench.lesson_browser import ON_SCREEN, BrowserStudent, Lesson, run_student  # noqa: E402
from deploy.browser import launch, version  # noqa: E402
from deploy.classroom import process_ticks  # noqa: E402

PASSWORD = "a lesson's teacher password"
SAMPLE_S = 30.0
WARM_UP_S = 180.0  # memory is judged from here on: the first visits fill the caches
PUSH_WITHIN_S = 2.0
# How long students pause: (Chromium students' pace, protocol students' pace). "class": the
# Chromium students draw about every 25 s (reading the answer 4-10 s, 6-12 s to the next digit)
# and the protocol students about every 8 s (the server still answers about 3 drawings a second).
# "stress": the earlier pace (every 8 s and every 3 s). Neither keeps one client core below
# CLIENT_SATURATED with six Chromium students and the teacher's page: measured by hand, a drawing
# costs a page 1.3 s of Chromium CPU, and an open page 0.03-0.05 of a core while idle (it asks
# for the push file four times a second; the teacher's class view, refreshed every 3 s, 0.09),
# and a 5-minute lesson at the "class" pace kept the client core 95% busy.
PACES = {
    "class": (
        class_work.Pace(reading=(4.0, 10.0), between=(6.0, 12.0)),
        class_work.Pace(reading=(2.0, 5.0), between=(1.0, 3.0)),
    ),
    "stress": (class_work.Pace(reading=(0.8, 1.6), between=(0.3, 0.7)), class_work.STRESS),
}
# Above this share of the client core busy, what the pages showed is the harness's queue.
CLIENT_SATURATED = 0.9
# A teacher's click that is not written within PUSH_LATE_S is reported; one not written within
# PUSH_WRITTEN_WITHIN_S went down with its server and is clicked again.
PUSH_LATE_S = 10.0
PUSH_WRITTEN_WITHIN_S = 45.0


# In the teacher's page, from its first script on: when each button was clicked (wall clock, ms).
# A push's delays count from the click as the page saw it: Playwright's click returns later (on a
# busy client, up to a second after the push was written).
CLICK_CLOCK = """(() => {
  window.__clicks = [];
  document.addEventListener('click', (e) => {
    const button = e.target.closest && e.target.closest('button');
    if (button) window.__clicks.push([Date.now(), button.textContent.trim()]);
  }, true);
})();"""
LAST_CLICK = """(name) => {
  const mine = (window.__clicks || []).filter(([, text]) => text.includes(name));
  return mine.length ? mine[mine.length - 1][0] : null;
}"""


async def _teacher(browser, url: str, work, pushes_at: list[float], challenge_at, start, record):
    """The class view, open and signed in throughout; pushes and one challenge at their times."""
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    await context.add_init_script(CLICK_CLOCK)
    page = await context.new_page()
    sidebar = page.locator("[data-testid='stSidebar']")
    export = page.get_by_text("Export the class's drawings (CSV)")

    async def sign_in() -> None:
        field = sidebar.get_by_label("Teacher password")
        expander = sidebar.locator("summary").filter(has_text="For the teacher")
        # a class's first page loads come at once, on servers still loading their models
        await expander.wait_for(timeout=180_000)
        for attempt in range(6):  # the form is disabled while the page reconnects
            try:
                if await export.is_visible():  # still signed in (a reload keeps the sign-in)
                    return
                if not await field.is_visible():  # (a click on an open expander closes it)
                    await expander.click(timeout=10_000)
                    await field.wait_for(timeout=10_000)
                await field.fill(PASSWORD, timeout=10_000)
                await sidebar.get_by_role("button", name="Sign in").click(timeout=10_000)
                await export.wait_for(timeout=30_000)
                return
            except Exception:
                if attempt == 5:
                    shown = await page.evaluate(ON_SCREEN)
                    record["events"].append(f"the teacher's page, not signed in: {shown}")
                    raise

    try:
        await page.goto(url + "/class-view", timeout=180_000)
        await sign_in()
        plan = sorted([(t, "push") for t in pushes_at] + [(challenge_at, "challenge")])
        while plan:
            at, what = plan.pop(0)
            await asyncio.sleep(max(0.0, start + at - time.monotonic()))
            name = (
                "Push a test digit"
                if what == "push"
                else "Start the challenge and push its digit to everyone"
            )
            for attempt in range(6):
                try:  # disabled while the page reconnects (a replica restarted)
                    await page.get_by_role("button", name=name).click(timeout=10_000)
                    break
                except Exception:
                    if attempt == 5:
                        raise
                if attempt == 2:  # still no button: the teacher reloads the page, as in class
                    record["events"].append(
                        f"the teacher reloaded the class view at {time.time():.2f}"
                    )
                    await page.goto(url + "/class-view", timeout=180_000)
                    await sign_in()
                    continue
                # a new session after the restart: the teacher signs in again, as in class
                if await sidebar.get_by_label("Teacher password").is_visible():
                    record["events"].append(f"teacher signed in again at {time.time():.2f}")
                    await sign_in()
            returned = time.time()
            seen = await page.evaluate(LAST_CLICK, name)
            clicked = seen / 1000 if seen and seen / 1000 <= returned else returned
            record["pushes"].append((clicked, what))
            # the protocol students' clock
            record["push_perf"].append(time.perf_counter() - (time.time() - clicked))
            before = record["pushes"][-1][0]
            waited = time.monotonic()
            while time.monotonic() - waited < PUSH_WRITTEN_WITHIN_S:
                # when the teacher's server wrote it (the click's own cost; a busy server
                # queues the click behind the class's drawings)
                push = await asyncio.to_thread(work.current_push)
                if push.at is not None and push.at >= before - 1:
                    record["push_written_after_s"].append(round(push.at - before, 3))
                    if push.at - before > PUSH_LATE_S:  # kept, and said: a slow teacher's click
                        record["events"].append(
                            f"a {what} at {before:.2f} was written {push.at - before:.1f} s later"
                        )
                    break
                await asyncio.sleep(0.05)
            else:  # no push: the teacher's server went down with the click
                record["pushes"].pop()
                record["push_perf"].pop()
                record["events"].append(
                    f"a {what} at {before:.2f} was not written in {PUSH_WRITTEN_WITHIN_S:.0f} s "
                    f"(the page {'saw' if seen else 'did not see'} the click)"
                )
                running = what == "challenge" and await page.get_by_text("Running:").count()
                if not running:
                    bisect.insort(plan, (time.monotonic() - start + 3, what))  # tried again
            if what == "challenge":
                await page.get_by_text("Running:").wait_for(timeout=60_000)
        record["teacher_ok"] = True
    except Exception as exc:
        record["events"].append(f"teacher: {type(exc).__name__}: {str(exc)[:300]}")
    finally:
        await context.close()


async def _samples(server, deadline: float, record) -> None:
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):  # a replica restarting
            record["rss_mb"].append((time.time(), server.rss_mb()))
        await asyncio.sleep(SAMPLE_S)


async def _restart(server, at: float, start: float, record) -> None:
    await asyncio.sleep(max(0.0, start + at - time.monotonic()))
    t = time.monotonic()
    record["restart_began"] = time.time()
    await asyncio.to_thread(server.restart, 0)
    record["events"].append(f"replica 0 restarted in {time.monotonic() - t:.1f} s")
    record["restarted_at"] = time.time()


class FullDisk:
    """The data folder on a small tmpfs: ``fill`` takes every free byte, ``free`` gives them
    back (needs root, for the mount)."""

    SIZE = "256m"

    def __init__(self, folder: Path):
        self.folder, self.ballast = folder, folder / "ballast"
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={self.SIZE}", "tmpfs", str(folder)], check=True
        )

    def fill(self) -> None:
        with open(self.ballast, "ab", buffering=0) as f:
            for chunk in (1 << 20, 1 << 12, 1):
                with contextlib.suppress(OSError):
                    while True:
                        f.write(b"\0" * chunk)

    def free(self) -> None:
        self.ballast.unlink(missing_ok=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.folder)], check=False)


async def _full_disk(disk: FullDisk, work, seconds: float, start: float, record) -> None:
    """The disk fills a third of the way in and is freed at two thirds."""
    await asyncio.sleep(max(0.0, start + seconds / 3 - time.monotonic()))
    record["saved_before_fill"] = await asyncio.to_thread(_drawing_ids, work)
    record["filling_at"] = time.time()  # writes may fail from here on
    await asyncio.to_thread(disk.fill)
    record["filled_at"] = time.time()
    record["events"].append(f"the data disk filled at {record['filled_at']:.2f}")
    await asyncio.sleep(max(0.0, start + 2 * seconds / 3 - time.monotonic()))
    disk.free()
    record["freed_at"] = time.time()
    record["events"].append(f"the data disk freed at {record['freed_at']:.2f}")


def _drawing_ids(work) -> list[int]:
    rows = work.store.execute("SELECT id FROM drawings WHERE class_id = ?", (work.class_id,))
    return sorted(int(r[0]) for r in rows)


async def _lesson(
    server, work, tokens, browsers: int, seconds: float, pushes: int, record, pace, disk=None
):
    from playwright.async_api import async_playwright

    from mnist_viz.core.pendigits import load_pen_digits

    start = time.monotonic()
    deadline = start + seconds
    chromium_pace, protocol_pace = pace
    lesson = Lesson(work, load_pen_digits(), deadline, chromium_pace)
    students = [BrowserStudent(i, f"browser{i:02d}") for i in range(browsers)]
    run = class_work.ClassRun(len(tokens), seconds)
    ready = list(range(len(tokens)))  # the protocol students start at once
    pushes_at = [seconds * (i + 0.5) / pushes for i in range(pushes)]
    # one push in the moment of the replica's restart (half-way): the hardest case for a push
    middle = min(range(pushes), key=lambda i: abs(pushes_at[i] - seconds / 2))
    pushes_at[middle] = seconds / 2
    async with async_playwright() as p:
        browser = await launch(p)
        jobs = [
            run_student(browser, server.url, me, lesson, 4000 + me.index) for me in students
        ] + [
            class_work._student(
                server.url, i, token, work.class_id, seconds, run, ready, pace=protocol_pace
            )
            for i, token in enumerate(tokens)
        ]
        outcomes = await asyncio.gather(
            _teacher(browser, server.url, work, pushes_at, seconds / 3, start, record),
            _samples(server, deadline, record),
            _client_cpu(deadline, record),
            # a full disk is its own fault: no replica restart in that lesson
            _full_disk(disk, work, seconds, start, record)
            if disk
            else _restart(server, seconds / 2, start, record),
            *jobs,
            return_exceptions=True,
        )
        await browser.close()
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            record["events"].append(f"error: {outcome!r}")
    record["events"].extend(run.events)  # what the protocol students met
    return students, run


def client_ticks(seen: dict[int, tuple[str, int]]) -> None:
    """Update ``seen`` (pid -> (who, CPU clock ticks so far)) with every client-side process:
    Chromium's, the playwright driver (node), and this one (the protocol students and the
    Chromium students' script), from /proc. Sampled while they run: a closed page's processes
    take their ticks with them."""
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            ticks = process_ticks(pid)
        except OSError:  # gone meanwhile
            continue
        if pid == os.getpid():
            who = "bench (protocol students, scripts)"
        elif b"chromium" in command:
            who = "chromium"
        elif b"playwright" in command and b"node" in command:
            who = "playwright driver"
        else:
            continue
        seen[pid] = (who, ticks)


async def _client_cpu(deadline: float, record) -> None:
    """What the client core went to, in cores (a saturated one delays what the pages show)."""
    first: dict[int, tuple[str, int]] = {}
    client_ticks(first)
    seen, began = dict(first), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(5)
        client_ticks(seen)
        per_s = os.sysconf("SC_CLK_TCK") * (time.monotonic() - began)
        spent: dict[str, float] = {}
        for pid, (who, ticks) in seen.items():
            spent[who] = spent.get(who, 0) + ticks - first.get(pid, (who, 0))[1]
        record["client_cpu"] = {who: round(t / per_s, 2) for who, t in sorted(spent.items())}


def _first_notices(
    pushes: list[tuple[float, str]], students: list[BrowserStudent]
) -> list[tuple[float, str | None]]:
    """For each push and Chromium student: the delay to the first notice after it (before the
    next push) and the page it appeared on; (inf, None) when none came."""
    out = []
    times = [t for t, _ in pushes]
    for i, at in enumerate(times):
        until = times[i + 1] if i + 1 < len(times) else float("inf")
        for me in students:
            after = [(t, where) for t, _, where in me.notices if at <= t < until]
            out.append((after[0][0] - at, after[0][1]) if after else (float("inf"), None))
    return out


def push_arrivals(pushes: list[tuple[float, str]], students: list[BrowserStudent]) -> list[float]:
    """For each push and Chromium student, the delay to the first notice after it (before the
    next push); a push without one in time counts as missed (inf)."""
    return [delay for delay, _ in _first_notices(pushes, students)]


def push_delays_by_page(
    pushes: list[tuple[float, str]], students: list[BrowserStudent]
) -> dict[str, list[float]]:
    """The arrivals of ``push_arrivals`` by the page the notice appeared on (seconds, sorted)."""
    out: dict[str, list[float]] = {}
    for delay, where in _first_notices(pushes, students):
        if where is not None:
            out.setdefault(where, []).append(round(delay, 3))
    return {where: sorted(delays) for where, delays in sorted(out.items())}


def growth(samples: list[float]) -> float | None:
    """Last third's median over the first third's, after warm-up (1.0: flat)."""
    if len(samples) < 6:
        return None
    third = len(samples) // 3
    return round(statistics.median(samples[-third:]) / statistics.median(samples[:third]), 3)


def memory_windows(warm: float, record) -> list[tuple[float, float]]:
    """When a replica's memory is judged: from warm-up to the restart, and from a warm-up's time
    after it to the end. A restart moves the stopped replica's students to the other one (a new
    warm-up there: twice the sessions), and the restarted one starts empty."""
    began, done = record.get("restart_began"), record.get("restarted_at")
    if began is None or done is None:
        return [(warm, float("inf"))]
    return [(warm, began), (done + WARM_UP_S, float("inf"))]


def settled_windows(
    loads: list[float], toured: list[float], warm: float
) -> list[tuple[float, float]]:
    """When a tab's JS heap is judged: from the end of each load's tour of the pages (and the
    warm-up) until the next load. Before a tour the tab has not yet loaded every page's code;
    a reload empties it. (No tour recorded: from the warm-up on, as before tours.)"""
    if not toured:
        return [(warm, float("inf"))]
    windows = []
    for settled in toured:
        later = [t for t in loads if t > settled]
        start, end = max(settled, warm), min(later) if later else float("inf")
        if start < end:  # (a load during the warm-up ends its window before the warm-up does)
            windows.append((start, end))
    return windows


def _heap_window(samples: list[tuple[float, float]], a: float, b: float, started: float) -> dict:
    """One heap window of a tab, for the report: its bounds (s from the start), samples, growth."""
    inside = [mb for t, mb in samples if a <= t < b]
    return {
        "from_s": round(a - started, 1),
        "to_s": None if b == float("inf") else round(b - started, 1),
        "samples": len(inside),
        "growth": growth(inside),
    }


def max_growth(samples: list[tuple[float, float]], windows) -> float | None:
    """The largest ``growth`` of (time, MB) samples within any of ``windows``; None when no window
    has enough samples to judge."""
    found = [growth([mb for t, mb in samples if a <= t < b]) for a, b in windows]
    found = [g for g in found if g is not None]
    return max(found) if found else None


def report(students, run, record, check, started: float) -> dict:
    """The lesson's figures and every failed check, for the JSON and the README."""
    warm = started + WARM_UP_S
    taps = [t for me in students for t in me.taps]
    window = (record.get("filling_at", 0.0) - 1.0, record.get("freed_at", 0.0) + 1.0)
    while_full = [t for t in taps if window[0] <= t["sent"] <= window[1]]  # the page said so
    unlanded = [t for t in taps if t["landed_after_s"] is None and t not in while_full]
    with_server = [t for t in unlanded if _lost_with_restart(t, record)]
    lost = [t for t in unlanded if t not in with_server]  # silently: nothing on the page said so
    push_delays = push_arrivals(record["pushes"], students)
    reached = sorted(d for d in push_delays if d != float("inf"))
    # every window, judged or not (fewer than 6 samples), for the reader to check the verdict;
    # a tab's growth is its largest judged window's (as max_growth)
    judged = {
        me.nickname: [
            _heap_window(me.heap_mb, a, b, started)
            for a, b in settled_windows(me.loads, me.toured, warm)
        ]
        for me in students
    }
    heap = {
        name: max((w["growth"] for w in windows if w["growth"] is not None), default=None)
        for name, windows in judged.items()
    }
    rss = [
        max_growth(
            [(t, mbs[i]) for t, mbs in record["rss_mb"] if len(mbs) > i],
            memory_windows(warm, record),
        )
        for i in range(2)
    ]
    return {
        "chromium_students": len(students),
        "protocol_students": run.students,
        "chromium": {
            "drawings": sum(me.drawings for me in students),
            "answered": sum(me.answered for me in students),
            "unanswered": [u for me in students for u in me.unanswered],
            "answers_checked": sum(me.checks for me in students),
            "violations": [v for me in students for v in me.violations][:50],
            "taps": len(taps),
            "taps_lost": len(lost),
            "taps_lost_with_restart": len(with_server),
            "taps_while_disk_full": len(while_full),
            "tap_landed_p95_s": _p95([t["landed_after_s"] for t in taps if t not in unlanded]),
            "shared": sum(me.shared for me in students),
            "share_missed": sum(me.share_missed for me in students),
            "pushed_over_then_back": sum(me.back_from_push for me in students),
            "wiped_by_restart": sum(me.wiped_by_restart for me in students),
            "undos": sum(me.undos for me in students),
            "undo_unavailable": sum(me.undo_unavailable for me in students),
            "page_switches": sum(me.page_switches for me in students),
            "reloads": sum(me.reloads for me in students),
            "median_ms": round(statistics.median(_all(students, "latencies_ms")), 1)
            if _all(students, "latencies_ms")
            else None,
            "p95_ms": _p95(_all(students, "latencies_ms")),
            "errors": [e for me in students for e in me.errors],
            "heap_growth": heap,
            "heap_windows": judged,
            "heap_mb_first_last": {
                me.nickname: [me.heap_mb[0][1], me.heap_mb[-1][1]] if me.heap_mb else None
                for me in students
            },
            "heap_mb_samples": {
                me.nickname: [[round(t - started, 1), mb] for t, mb in me.heap_mb]
                for me in students
            },
        },
        "protocol": {
            "drawings": len(run.drawings),
            "answered": check["answered"],
            "missing_from_database": check["missing"],
            "labelled": check["labelled"],
            "labels_missing": check["labels_missing"],
            "reconnects": len(run.reconnects),
            "push": _protocol_pushes(record, run),
        },
        "pushes": len(record["pushes"]),
        "push_to_chromium_notice": {
            "arrivals": f"{len(reached)} of {len(push_delays)} (push x Chromium student)",
            "within_2s": sum(d <= PUSH_WITHIN_S for d in reached),
            "p95_s": _p95(reached),
            "max_s": round(reached[-1], 2) if reached else None,
            "by_page": push_delays_by_page(record["pushes"], students),
        },
        "cores_busy": record.get("cores_busy"),
        "client_cpu": record.get("client_cpu"),
        "replica_rss_growth": rss,
        "rss_mb_first_last": [record["rss_mb"][0][1], record["rss_mb"][-1][1]]
        if record["rss_mb"]
        else None,
        "rss_mb_samples": [[round(t - started, 1), mbs] for t, mbs in record["rss_mb"]],
        "events": record["events"],
        "push_times": [round(t, 2) for t, _ in record["pushes"]],
        "push_written_after_s": record["push_written_after_s"],
        "restarted_at": record.get("restarted_at"),
        "chromium_log": [line for me in students for line in me.log][:100],
        "lost_taps": [
            {
                "sent": t["sent"],
                "truth": t["truth"],
                "last_push_before_s": _since(t, record),
                "before_restart_s": round(record["restart_began"] - t["sent"], 2)
                if "restart_began" in record
                else None,
                "page_started_over": t.get("page_started_over"),
                "with_restart": t in with_server,
                "note": t.get("note", "")[:600],
            }
            for t in unlanded
        ][:50],
    }


RESTART_WINDOW_S = 5.0  # how long before a replica is stopped a tap may wait in its queue


def _lost_with_restart(tap: dict, record) -> bool:
    """A tap sent shortly before its replica was stopped, on a page that then said it started
    over ("what you drew or chose may be gone"): lost with its server, and said so."""
    began, done = record.get("restart_began"), record.get("restarted_at")
    if began is None or not tap.get("page_started_over"):
        return False
    return began - RESTART_WINDOW_S <= tap["sent"] <= done


def _protocol_pushes(record, run) -> dict:
    delays, _ = class_work.push_latencies(record["push_perf"], run.notices, run.answers)
    delays.sort()
    pushes = record["push_perf"]
    missed = []  # (push, student, its reconnects near the push) for every push not seen
    for i, at in enumerate(pushes):
        until = pushes[i + 1] if i + 1 < len(pushes) else float("inf")
        for student, seen in sorted(run.by_student.items()):
            if not any(at <= t < until for t in seen["arrivals"]):
                near = [round(t - at, 2) for t in seen["reconnected"] if abs(t - at) < 30]
                missed.append(f"push {i + 1}, protocol student {student}, reconnects {near}")
    return {
        "missed": missed[:20],
        "arrivals": f"{len(delays)} of {len(record['push_perf']) * run.students}",
        "within_2s": sum(d <= PUSH_WITHIN_S for d in delays),
        "p95_s": _p95(delays),
        "max_s": round(delays[-1], 2) if delays else None,
    }


def _all(students, name: str) -> list[float]:
    return [v for me in students for v in getattr(me, name)]


def _p95(values) -> float | None:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    return round(values[min(len(values) - 1, int(0.95 * len(values)))], 2)


def _since(tap: dict, record) -> float | None:
    before = [t for t, _ in record["pushes"] if t <= tap["sent"]]
    return round(tap["sent"] - before[-1], 2) if before else None


def run(
    minutes: float,
    database: str,
    browsers: int,
    protocol: int,
    pushes: int,
    models_dir: str,
    mnist_data: str | None = None,
    full_disk: bool = False,
    pace: str = "class",
) -> dict:
    """One lesson on ``database`` ("sqlite" or "postgres") at ``pace`` (a key of ``PACES``); the
    report. ``mnist_data``: the folder of the official MNIST for the app (default:
    ``$MNIST_DATA``)."""
    from deploy.classroom import Classroom
    from mnist_viz.classroom.access import PASSWORD_ENV_VAR
    from mnist_viz.classroom.classwork import ClassWork
    from mnist_viz.classroom.store import Store

    seconds = 60 * minutes
    record = {
        "pushes": [],
        "push_perf": [],
        "push_written_after_s": [],
        "events": [],
        "rss_mb": [],
        "teacher_ok": False,
    }
    with tempfile.TemporaryDirectory(prefix="mnist-viz-lesson-") as folder:
        disk = FullDisk(Path(folder)) if full_disk else None
        env = {
            "MNIST_VIZ_MODELS_DIR": models_dir,
            "MNIST_VIZ_DATA_DIR": folder,
            PASSWORD_ENV_VAR: PASSWORD,
        }
        if mnist_data or os.environ.get("MNIST_DATA"):
            env["MNIST_DATA"] = mnist_data or os.environ["MNIST_DATA"]
        postgres = None
        if database == "postgres":
            from deploy.postgres import LocalPostgres

            os.chmod(folder, 0o711)  # the postgres user passes through to its cluster
            postgres = LocalPostgres(Path(folder) / "postgres").start()
            env["MNIST_VIZ_DATABASE_URL"] = url = postgres.url
        else:
            url = f"sqlite:///{folder}/class.sqlite3"
        try:
            with Classroom(replicas=2, env=env, cores="0") as server:
                store = Store(url)
                store.migrate()
                work = ClassWork(store)
                work.ensure()
                tokens = [work.join(f"protocol{i:02d}")[1] for i in range(protocol)]
                started = time.time()
                cores = {"server": {0}, "client": os.sched_getaffinity(0)}
                ticks = {name: _busy_ticks(cpus) for name, cpus in cores.items()}
                students, class_run = asyncio.run(
                    _lesson(
                        server, work, tokens, browsers, seconds, pushes, record, PACES[pace], disk
                    )
                )
                # how busy each side's cores were: a saturated client core delays what the
                # Chromium students see, whatever the server does
                after = {name: _busy_ticks(cpus) for name, cpus in cores.items()}
                record["cores_busy"] = {
                    name: round(
                        (after[name][0] - ticks[name][0]) / max(1, after[name][1] - ticks[name][1]),
                        2,
                    )
                    for name in cores
                }
                time.sleep(2)  # what was sent has been handled
                # answers while the disk was full could not be saved (the pages said so)
                window = (
                    (record["filling_at"] - 1.0, record["freed_at"] + 1.0)
                    if disk and "freed_at" in record
                    else None
                )
                check = class_work.saved_check(work, tokens, class_run, window)
                out = report(students, class_run, record, check, started)
                out["chromium"]["missing_from_database"] = [
                    f"{me.nickname}: {me.answered} answered, {me.unsaved_said} said unsaved, "
                    f"{rows} in the database"
                    for me in students
                    if me.student_id is not None
                    and (rows := len(work.student_drawings(me.student_id, 100_000)))
                    < me.answered - me.unsaved_said
                ]
                out["chromium"]["unsaved_said"] = sum(me.unsaved_said for me in students)
                if disk:
                    out["full_disk"] = _disk_report(work, record, check)
                out["teacher_class_view_open"] = record["teacher_ok"]
                store.close()
        finally:
            if postgres is not None:
                postgres.stop()
            if disk is not None:
                disk.unmount()
    return out | {
        "minutes": minutes,
        "database": database,
        "pace": {
            "name": pace,
            "chromium": vars(PACES[pace][0]),
            "protocol": vars(PACES[pace][1]),
        },
        "chromium_version": version(),
    }


def _disk_report(work, record, check) -> dict:
    """What the full disk cost: saved drawings lost (must be none), drawings saved after it was
    freed (must be some), and the answers excused while it was full."""
    before = set(record.get("saved_before_fill", []))
    now = set(_drawing_ids(work))
    freed = record.get("freed_at")
    rows = work.store.execute(
        "SELECT COUNT(*) FROM drawings WHERE class_id = ? AND created > ?",
        (work.class_id, freed or float("inf")),
    )
    return {
        "filled_at": record.get("filled_at"),
        "freed_at": freed,
        "saved_before_fill": len(before),
        "lost": sorted(before - now)[:50],
        "saved_after_free": int(rows[0][0]),
        "protocol_answers_while_full": check.get("excused_in_fault_window", 0),
    }


def failures(result: dict, judge_memory: bool = True) -> list[str]:
    """Every promise of the lesson that did not hold (empty: all held)."""
    c, p, push = result["chromium"], result["protocol"], result["push_to_chromium_notice"]
    out = []
    if c["unanswered"]:
        out.append(f"Chromium drawings unanswered: {c['unanswered'][:5]}")
    if c["violations"]:
        out.append(f"page checks failed: {c['violations'][:5]}")
    if c["taps_lost"] or p["labels_missing"]:
        out.append(f"labels lost: {c['taps_lost']} Chromium, {len(p['labels_missing'])} protocol")
    if c.get("taps_lost_with_restart"):
        out.append(
            f"labels lost with the restarted replica (the page said it started over): "
            f"{c['taps_lost_with_restart']} Chromium"
        )
    if p["missing_from_database"] or c["missing_from_database"]:
        missing = [*p["missing_from_database"], *c["missing_from_database"]]
        out.append(f"answered drawings missing: {missing[:5]}")
    if c["errors"]:
        out.append(f"Chromium students stopped: {c['errors']}")
    for who, pushed in (("Chromium", push), ("protocol", p["push"])):
        arrived, expected = (int(x) for x in pushed["arrivals"].split(" (")[0].split(" of "))
        if arrived < expected or pushed["within_2s"] < arrived:
            out.append(f"pushes to {who} students: {pushed}")
        if pushed["p95_s"] is not None and pushed["p95_s"] > 1.0:
            out.append(f"push p95 to {who} students {pushed['p95_s']} s > 1 s")
    if disk := result.get("full_disk"):
        if disk["freed_at"] is None:
            out.append("the full disk was not freed before the lesson ended")
        if disk["lost"]:
            out.append(f"drawings saved before the disk filled were lost: {disk['lost'][:5]}")
        if not disk["saved_after_free"]:
            out.append("no drawing was saved after the disk was freed")
    busy = (result.get("cores_busy") or {}).get("client")
    if busy is not None and busy > CLIENT_SATURATED:
        out.append(
            f"the client core was {busy:.0%} busy: what the pages showed waited in the "
            "harness's queue (fewer browsers per client core, or a slower pace)"
        )
    if not result["teacher_class_view_open"]:
        out.append(f"the teacher's page failed: {result['events']}")
    if judge_memory:
        for name, g in [*c["heap_growth"].items(), *enumerate(result["replica_rss_growth"])]:
            if g is None or g > 1.2:
                out.append(f"memory of {name} grew {g}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--browsers", type=int, default=6)
    parser.add_argument("--protocol", type=int, default=24)
    parser.add_argument("--pushes", type=int, default=10)
    parser.add_argument("--client-cores", default="1")
    parser.add_argument("--pace", choices=sorted(PACES), default="class")
    parser.add_argument("--save", action="store_true", help="bench/results/lesson_<db>.json")
    parser.add_argument(
        "--full-disk",
        action="store_true",
        help="SQLite on a small tmpfs that fills a third of the way in and is freed at two "
        "thirds (no replica restart); needs root",
    )
    args = parser.parse_args(argv)
    # the bench, its protocol students and every Chromium it starts stay off the server's core
    os.sched_setaffinity(0, {int(c) for c in args.client_cores.split(",")})
    models = os.environ.get("MNIST_VIZ_MODELS_DIR", str(ROOT / "models"))
    database = "sqlite" if args.full_disk else args.database
    result = run(
        args.minutes,
        database,
        args.browsers,
        args.protocol,
        args.pushes,
        models,
        full_disk=args.full_disk,
        pace=args.pace,
    )
    result["failed"] = failures(result)
    print(json.dumps(result, indent=1))
    if args.save:
        from bench.saved import save

        save(f"lesson_{database}{'_full_disk' if args.full_disk else ''}", result)
    return 0 if not result["failed"] else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
