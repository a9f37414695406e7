"""A class of students drawing at once, measured as they feel it.

Starts the app the way ``make run`` does (or N replicas behind nginx with ``--replicas``), opens
one Chromium page per student (one browser, one context each, so each is its own session with its
own cookies), and has every student draw handwritten-looking digits stroke by stroke on the real
canvas, read the answer, press Clear and draw the next one, with short pauses.

For each drawing it measures, in the page's own clock, the time from the pen lifting off the last
stroke to the prediction for that drawing being on screen. The answer is recognised by the stroke
count the page prints with it ("your drawing (2 strokes)"); a student's consecutive drawings
always differ in stroke count, so an answer to an earlier drawing is never taken for the current
one. The server and the browser are pinned to different cores (``taskset``), so the browsers'
load does not hide the server's cost. Prints median / p95 / max latency, answers missing, digits
read right, server CPU seconds per drawing (from /proc) and the server's peak RSS.

    .venv/bin/python bench/classroom.py --students 30 --drawings 6
    .venv/bin/python bench/classroom.py --students 30 --replicas 2   # through nginx
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.protocol_student import ProtocolStudent  # noqa: E402
from bench.strokes import digit_strokes, next_digit  # noqa: E402
from deploy.browser import CANVAS, evaluate_and_wait, launch, version  # noqa: E402
from deploy.classroom import Classroom  # noqa: E402

ANSWER_TIMEOUT_MS = 20_000
LOAD_TIMEOUT_MS = 180_000

# In the page: remember when the pen last lifted; resolve once the answer for a drawing of
# `strokes` strokes is on screen, with its time and the predicted digit.
INSTRUMENT = """() => {
  window.__penUp = 0;
  window.addEventListener('pointerup', () => { window.__penUp = performance.now(); }, true);
}"""
WAIT_FOR_ANSWER = """([strokes, timeout]) => new Promise((resolve) => {
  const wanted = `Input: your drawing (${strokes} stroke${strokes === 1 ? '' : 's'})`;
  const check = () => {
    const caption = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
      .find((e) => e.textContent.includes(wanted));
    if (!caption) return false;
    const metric = [...document.querySelectorAll('[data-testid="stMetric"]')]
      .find((e) => e.textContent.startsWith('Prediction'));
    const value = metric && metric.querySelector('[data-testid="stMetricValue"]');
    if (!value) return false;
    observer.disconnect();
    clearTimeout(timer);
    resolve({at: performance.now(), penUp: window.__penUp, value: value.textContent.trim()});
    return true;
  };
  const observer = new MutationObserver(check);
  const timer = setTimeout(() => { observer.disconnect(); resolve(null); }, timeout);
  if (!check()) observer.observe(document.body, {subtree: true, childList: true, characterData: true});
})"""


# When a drawing gets no answer: the captions and metric the page shows instead, and how the pen
# tools have cleared so far (in the browser, or by asking the server: see ui/components/pen/pen.js).
ON_SCREEN = """() => {
  const tools = [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .map((e) => (e.shadowRoot || e).querySelector('button.pen-clear')).find((b) => b);
  const clears = tools ? JSON.stringify({...tools.dataset}) : 'no pen tools';
  const shown = [...document.querySelectorAll(
      '[data-testid="stCaptionContainer"], [data-testid="stMetric"], [data-testid="stAlert"]')]
    .map((e) => e.textContent.trim().slice(0, 80)).filter((t) => t).slice(0, 6);
  return [`clears ${clears}`, ...shown].join(' | ');
}"""
MISSED_DIR = os.environ.get("CLASSROOM_MISSED_DIR")  # screenshots of unanswered drawings


@dataclass
class Result:
    students: int
    drawings_per_student: int
    replicas: int
    browsers: int
    latencies_ms: list[float] = field(default_factory=list)  # Chromium: pen-up to on screen
    round_trips_ms: list[float] = field(default_factory=list)  # Chromium: request to answer frame
    protocol_ms: list[float] = field(default_factory=list)  # protocol students: sent to answer
    missing: int = 0
    correct: int = 0
    drawings: int = 0
    server_cpu_s: float = 0.0
    peak_rss_mb: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    client_busy: float = 0.0
    rss_mb: list[tuple[float, list[float]]] = field(default_factory=list)  # (minutes, per server)
    missed: list[str] = field(default_factory=list)  # which drawings got no answer

    def summary(self) -> dict:
        answered = len(self.latencies_ms) + len(self.protocol_ms)
        screen, trip = _stats(self.latencies_ms), _stats(self.round_trips_ms)
        protocol = _stats(self.protocol_ms)
        return {
            "students": self.students,
            "browsers": self.browsers,
            "replicas": self.replicas,
            "drawings": self.drawings,
            "answered": answered,
            "missing": self.missing,
            "missed": self.missed[:50],
            "median_ms": screen[0],
            "p95_ms": screen[1],
            "max_ms": screen[2],
            "server_round_trip_median_ms": trip[0],
            "server_round_trip_p95_ms": trip[1],
            "server_round_trip_max_ms": trip[2],
            "protocol_answer_median_ms": protocol[0],
            "protocol_answer_p95_ms": protocol[1],
            "protocol_answer_max_ms": protocol[2],
            "client_core_busy": round(self.client_busy, 2),
            "read_right": round(self.correct / max(1, len(self.latencies_ms)), 3),
            "server_cpu_ms_per_drawing": round(1000 * self.server_cpu_s / max(1, self.drawings), 1),
            "server_peak_rss_mb": [round(r) for r in self.peak_rss_mb],
            "drawings_per_s": round(self.drawings / self.wall_s, 2) if self.wall_s else None,
            "rss_mb_first_last": (
                [self.rss_mb[0][1], self.rss_mb[-1][1]] if len(self.rss_mb) > 1 else None
            ),
        }


def _stats(values: list[float]) -> tuple[float | None, float | None, float | None]:
    """Median, 95th percentile and maximum, rounded to 0.1 ms."""
    if not values:
        return None, None, None
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return round(statistics.median(ordered), 1), round(p95, 1), round(ordered[-1], 1)


def _busy_ticks(cores: set[int]) -> tuple[int, int]:
    """(busy, total) clock ticks of these CPUs so far, from /proc/stat."""
    busy = total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cores:
            ticks = [int(v) for v in values]
            idle = ticks[3] + ticks[4]  # idle + iowait
            busy += sum(ticks[:8]) - idle
            total += sum(ticks[:8])
    return busy, total


class _Frames:
    """The page's websocket traffic as the browser process saw it (CDP timestamps, which do not
    wait for a busy page): when each large request went out, when each answer came in."""

    def __init__(self):
        self.sent: list[float] = []  # requests carrying a drawing (the canvas' PNG: > 1 KB)
        self.answers: list[tuple[float, bytes]] = []

    def on_sent(self, event: dict) -> None:
        if len(event["response"]["payloadData"]) > 1400:  # base64 of > 1 KB
            self.sent.append(event["timestamp"])

    def on_received(self, event: dict) -> None:
        payload = event["response"]["payloadData"]
        raw = base64.b64decode(payload) if event["response"]["opcode"] == 2 else payload.encode()
        if b"your drawing (" in raw:
            self.answers.append((event["timestamp"], raw))

    def round_trip_ms(self, strokes: int) -> float | None:
        """Server + network time for the answer to a drawing of ``strokes`` strokes: from the last
        drawing sent before that answer arrived to its arrival."""
        wanted = f"your drawing ({strokes} stroke{'s' if strokes != 1 else ''})".encode()
        for at, raw in reversed(self.answers):
            if wanted in raw:
                before = [t for t in self.sent if t <= at]
                return 1000 * (at - before[-1]) if before else None
        return None


async def _stroke(page, box, points) -> None:
    await page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    await page.mouse.down()
    for x, y in points[1::2]:  # every other sample: about 8 px apart, like a quick hand
        await page.mouse.move(box["x"] + x, box["y"] + y)
    await page.mouse.move(box["x"] + points[-1][0], box["y"] + points[-1][1])
    await page.mouse.up()


class _Plan:
    """How long students keep drawing: a number of drawings each, or until a deadline."""

    def __init__(self, drawings: int, minutes: float | None):
        self.drawings, self.minutes, self.deadline = drawings, minutes, None

    def start(self) -> None:
        if self.minutes:
            self.deadline = time.perf_counter() + 60 * self.minutes

    def more(self, done: int) -> bool:
        if self.deadline is not None:
            return time.perf_counter() < self.deadline
        return done < self.drawings


async def _student(browser, url: str, index: int, plan: _Plan, result: Result, ready, go):
    rng = np.random.default_rng(1000 + index)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    frames = _Frames()
    cdp = await context.new_cdp_session(page)
    cdp.on("Network.webSocketFrameSent", frames.on_sent)
    cdp.on("Network.webSocketFrameReceived", frames.on_received)
    await cdp.send("Network.enable")
    try:
        await page.goto(url, timeout=LOAD_TIMEOUT_MS)
        await page.locator(CANVAS).wait_for(timeout=LOAD_TIMEOUT_MS)
        await page.get_by_text("Draw a digit").first.wait_for(timeout=LOAD_TIMEOUT_MS)
        await page.evaluate(INSTRUMENT)
        box = await page.locator(CANVAS).bounding_box()
        clear = page.get_by_role("button", name="Clear", exact=True)
        ready()
        await go.wait()
        await asyncio.sleep(rng.uniform(0, 3))  # students do not start in lockstep
        previous, done = None, 0
        while plan.more(done):
            done += 1
            digit, style = next_digit(rng, previous)
            drawing = digit_strokes(digit, rng, style=style)
            previous = len(drawing.strokes)
            for i, points in enumerate(drawing.strokes):
                if i:
                    await asyncio.sleep(rng.uniform(0.15, 0.4))
                await _stroke(page, box, points)
            result.drawings += 1
            answer = await evaluate_and_wait(page, WAIT_FOR_ANSWER, [previous, ANSWER_TIMEOUT_MS])
            if answer is None:
                result.missing += 1
                shown = await page.evaluate(ON_SCREEN)
                result.missed.append(
                    f"browser {index}: a {digit} ({style}) in {previous} strokes; on screen: {shown}"
                )
                if MISSED_DIR:  # what the student saw, for finding the cause
                    Path(MISSED_DIR).mkdir(parents=True, exist_ok=True)
                    await page.screenshot(path=f"{MISSED_DIR}/missed-{index}-{result.missing}.png")
            else:
                result.latencies_ms.append(answer["at"] - answer["penUp"])
                result.correct += answer["value"] == str(digit)
                await asyncio.sleep(0.05)  # the CDP event may trail the page's own view
                trip = frames.round_trip_ms(previous)
                if trip is not None:
                    result.round_trips_ms.append(trip)
                frames.answers.clear()
            await asyncio.sleep(rng.uniform(1.0, 2.0))  # reading the answer
            await clear.click()
            await asyncio.sleep(rng.uniform(0.3, 0.8))
    finally:
        await context.close()


async def _protocol_student(url: str, index: int, plan: _Plan, result: Result, ready, go):
    rng = np.random.default_rng(1000 + index)
    student = ProtocolStudent(url)
    try:
        await student.connect()
        ready()
        await go.wait()
        await asyncio.sleep(rng.uniform(0, 3))
        previous, done = None, 0
        while plan.more(done):
            done += 1
            digit, style = next_digit(rng, previous)
            drawing = digit_strokes(digit, rng, style=style)
            previous = len(drawing.strokes)
            for i in range(len(drawing.strokes)):
                if i:
                    await asyncio.sleep(rng.uniform(0.15, 0.4))
                # a hand draws a stroke in about as long as the browser students take
                await asyncio.sleep(0.012 * len(drawing.strokes[i]) / 2)
                sent = time.perf_counter()
                await student.draw(drawing.strokes[: i + 1])
            result.drawings += 1
            took = await student.answer(previous, sent, ANSWER_TIMEOUT_MS / 1000)
            if took is None:
                result.missing += 1
                result.missed.append(f"protocol {index}: a {digit} ({style}) in {previous} strokes")
            else:
                result.protocol_ms.append(1000 * took)
            await asyncio.sleep(rng.uniform(1.0, 2.0))
            await student.clear()
            await asyncio.sleep(rng.uniform(0.3, 0.8))
    finally:
        await student.close()


async def _run_students(
    url: str,
    students: int,
    browsers: int,
    plan: _Plan,
    result: Result,
    server,
    client_cores: set[int],
) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await launch(p)
        loaded, go = 0, asyncio.Event()
        all_loaded = asyncio.Event()

        def ready() -> None:
            nonlocal loaded
            loaded += 1
            if loaded == students:
                all_loaded.set()

        tasks = [
            asyncio.create_task(
                _student(browser, url, i, plan, result, ready, go)
                if i < browsers
                else _protocol_student(url, i, plan, result, ready, go)
            )
            for i in range(students)
        ]
        waiter = asyncio.create_task(all_loaded.wait())
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:  # a student failed while loading
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise RuntimeError(f"a page failed to load: {next(iter(done)).exception()}")
        await asyncio.sleep(2)  # let the initial page runs finish before measuring
        cpu0, start = server.cpu_seconds(), time.perf_counter()
        busy0 = _busy_ticks(client_cores)
        plan.start()
        go.set()
        sampler = asyncio.create_task(_sample_rss(server, result, start))
        await asyncio.gather(*tasks)
        sampler.cancel()
        result.rss_mb.append((round((time.perf_counter() - start) / 60, 2), server.rss_mb()))
        result.wall_s = time.perf_counter() - start
        result.server_cpu_s = server.cpu_seconds() - cpu0
        busy1 = _busy_ticks(client_cores)
        result.client_busy = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
        result.peak_rss_mb = server.peak_rss_mb()
        await browser.close()


async def _sample_rss(server, result: Result, start: float, every: float = 30.0) -> None:
    """The servers' resident memory every ``every`` seconds, for long runs (memory must stay
    bounded over a whole lesson)."""
    while True:
        result.rss_mb.append((round((time.perf_counter() - start) / 60, 2), server.rss_mb()))
        await asyncio.sleep(every)


def run(
    students: int,
    drawings: int,
    replicas: int = 0,
    browsers: int | None = None,
    minutes: float | None = None,
    server_cores: str = "0",
    client_cores: str | None = "1",
    env: dict | None = None,
) -> Result:
    """Start the app (``replicas`` = 0: one plain server), run the class, return the numbers."""
    cores = (
        {int(c) for c in client_cores.split(",")} if client_cores else set(range(os.cpu_count()))
    )
    os.sched_setaffinity(0, cores)  # Chromium and the playwright driver inherit it
    browsers = students if browsers is None else min(browsers, students)
    result = Result(students, drawings, replicas, browsers)
    with Classroom(replicas=replicas, cores=server_cores, env=env) as server:
        plan = _Plan(drawings, minutes)
        asyncio.run(_run_students(server.url, students, browsers, plan, result, server, cores))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--drawings", type=int, default=5, help="drawings per student")
    parser.add_argument(
        "--browsers",
        type=int,
        help="how many students are Chromium pages (default: all); the others speak the "
        "websocket protocol (bench/protocol_student.py)",
    )
    parser.add_argument("--minutes", type=float, help="draw for this long instead (a soak test)")
    parser.add_argument("--replicas", type=int, default=0, help="0: one server, no nginx")
    parser.add_argument("--server-cores", default="0", help="taskset list for the server(s)")
    parser.add_argument("--client-cores", default="1", help="cores for Chromium ('' = any)")
    parser.add_argument("--json", help="append the summary to this JSON-lines file")
    parser.add_argument(
        "--save",
        action="store_true",
        help="make this run the row for its number of replicas in bench/results/classroom.json",
    )
    args = parser.parse_args(argv)
    result = run(
        args.students,
        args.drawings,
        args.replicas,
        args.browsers,
        args.minutes,
        args.server_cores,
        args.client_cores,
    )
    summary = result.summary()
    print(json.dumps(summary))
    if args.json:
        with open(args.json, "a") as f:
            detail = {"latencies_ms": result.latencies_ms, "rss_mb": result.rss_mb}
            f.write(json.dumps(summary | detail) + "\n")
    if args.save:
        save_row(summary | {"chromium": version(), "latencies_ms": result.latencies_ms})
    return 0 if summary["missing"] == 0 else 1


def save_row(row: dict) -> None:
    """Replace the row for ``row``'s class (students, Chromium students, replicas) in
    bench/results/classroom.json, marked with this commit (the README's table is checked against
    that file)."""
    from bench.saved import commit as this_commit

    path = ROOT / "bench" / "results" / "classroom.json"
    saved = json.loads(path.read_text()) if path.is_file() else {"rows": []}
    commit = this_commit()  # "+changes" when the code differs from the commit

    def which(r: dict) -> tuple[int, int, int]:
        return r["students"], r["browsers"], r["replicas"]

    rows = [r for r in saved["rows"] if which(r) != which(row)]
    rows.append(row | {"commit": commit})
    rows.sort(key=which)
    commits = {r.get("commit") for r in rows}
    saved = {"commit": commits.pop() if len(commits) == 1 else None, "rows": rows}
    path.write_text(json.dumps(saved, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
