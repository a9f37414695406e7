"""A student in a real Chromium page during ``bench/lesson.py``: joins under a nickname, draws real
pen-drawn digits (UCI pendigits) on the canvas, labels each truthfully with one tap, shares some,
takes back a stray stroke with Undo, clears, visits other pages and comes back, and reloads once.
After each load (the first, the reload, a reload after a failed step) it tours the pages once, with
its first drawing since the load answered (so each page shows a digit, as it will all lesson).

After every answer the page is checked as a person would see it (``PAGE_CHECK``): exactly one
Prediction, for the drawing on the pad (its caption's stroke count is the strokes drawn); at most
one label panel; no exception box, no "Traceback", no "This app has encountered an error". Each
tap is read back from the database (the student's newest drawing carries the label). The page
records when each push notice first appeared (``INSTRUMENT``), and its JS heap is sampled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field

import numpy as np

from bench.class_work import Pace
from bench.classroom import ON_SCREEN, WAIT_FOR_ANSWER
from bench.pen_browser import canvas_positions
from deploy.browser import CANVAS, evaluate_and_wait

LABEL_QUESTION = "Was it right? One tap, or tap what it was"
SHOTS = os.environ.get("LESSON_SHOTS")  # a folder for screenshots of what went wrong
TIMEOUT_MS = 60_000
ANSWER_TIMEOUT_MS = 20_000
OTHER_PAGES = ("Inside the network", "Adversarial lab")
# UCI pendigits' tablet sampled the pen every 100 ms: a stroke is drawn at its writer's speed
# (a digit takes 4 s on average), not as a burst of moves no hand makes.
PEN_POINT_S = 0.1

# In the page: the first moment each push notice is in view (wall clock, ms), kept until read.
INSTRUMENT = """() => {
  if (window.__lesson) return;
  window.__lesson = {notices: []};
  window.__penUp = 0;  // WAIT_FOR_ANSWER's start: the pen's last lift
  window.addEventListener('pointerup', () => { window.__penUp = performance.now(); }, true);
  let shown = new Set();
  const scan = () => {
    const now = new Set([...document.querySelectorAll('[data-testid="stAlert"]')]
      .map((e) => e.textContent.trim()).filter((t) => t.includes('The teacher pushed')));
    for (const text of now) if (!shown.has(text)) window.__lesson.notices.push([Date.now(), text, location.pathname]);
    shown = now;
  };
  new MutationObserver(scan).observe(document.body,
    {subtree: true, childList: true, characterData: true});
  scan();
}"""
TAKE_NOTICES = """() => {
  if (!window.__lesson) return [];
  const out = window.__lesson.notices; window.__lesson.notices = []; return out;
}"""
# What a person sees of the answer: the checks after every answer.
PAGE_CHECK = f"""() => {{
  const main = document.querySelector('[data-testid="stMain"]');
  const text = (sel) => [...main.querySelectorAll(sel)].map((e) => e.textContent.trim());
  const body = document.body.innerText;
  return {{
    predictions: text('[data-testid="stMetric"]').filter((t) => t.startsWith('Prediction')).length,
    inputs: text('[data-testid="stCaptionContainer"]').filter((t) => t.startsWith('Input: ')),
    panels: text('p').filter((t) => t === {LABEL_QUESTION!r}).length,
    exception: !!document.querySelector('[data-testid="stException"]'),
    traceback: body.includes('Traceback'),
    crashed: body.includes('This app has encountered an error'),
  }};
}}"""


@dataclass
class BrowserStudent:
    """What one Chromium student did and saw."""

    index: int
    nickname: str
    student_id: int | None = None
    drawings: int = 0
    answered: int = 0
    unanswered: list[str] = field(default_factory=list)
    checks: int = 0
    violations: list[str] = field(default_factory=list)
    unsaved_said: int = 0  # answers whose page said the drawing could not be saved
    taps: list[dict] = field(default_factory=list)  # {truth, sent, landed_after_s or None}
    share_missed: int = 0  # Share toggles that went away under the finger (logged)
    back_from_push: int = 0  # answers a push replaced before the tap: "Back to my own digit"
    wiped_by_restart: int = 0  # drawings on a page that started over (its replica restarted)
    shared: int = 0
    undos: int = 0
    undo_unavailable: int = 0  # stray strokes whose Undo stayed disabled (logged, with the page)
    page_switches: int = 0
    reloads: int = 0
    notices: list[tuple[float, str, str]] = field(default_factory=list)  # (wall s, text, page)
    heap_mb: list[tuple[float, float]] = field(default_factory=list)  # (wall s, used MB)
    loads: list[float] = field(default_factory=list)  # when the page was (re)loaded (wall s)
    toured: list[float] = field(default_factory=list)  # when a load's tour of the pages ended
    log: list[str] = field(default_factory=list)  # what happened, with times, for finding causes
    latencies_ms: list[float] = field(default_factory=list)  # pen-up to answer on screen
    errors: list[str] = field(default_factory=list)


def next_digit(pen, rng, previous_strokes: int | None) -> tuple[int, list]:
    """A random real pen digit whose stroke count differs from the previous drawing's (so the
    answer is told apart by the stroke count printed with it): (truth, canvas positions)."""
    while True:
        i = int(rng.integers(len(pen.labels)))
        if len(pen.strokes[i]) != previous_strokes:
            return int(pen.labels[i]), canvas_positions(pen.strokes[i])


async def draw(page, positions: list[list[tuple[float, float]]]) -> None:
    canvas = page.locator(CANVAS)
    await canvas.wait_for(state="visible", timeout=TIMEOUT_MS)  # a page still coming back
    box = await canvas.bounding_box()
    if box is None:
        raise RuntimeError("the drawing pad is on the page but not laid out")
    for stroke in positions:
        await page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        await page.mouse.down()
        started = time.monotonic()
        for i, (x, y) in enumerate(stroke[1:], 1):
            # at the writer's own speed: the tablet recorded a point every PEN_POINT_S
            await asyncio.sleep(max(0.0, started + i * PEN_POINT_S - time.monotonic()))
            await page.mouse.move(box["x"] + x, box["y"] + y)
        await page.mouse.up()
        await asyncio.sleep(0.15)  # a pen lifts and comes down again


async def open_page(page, title: str) -> None:
    await page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).click()
    await page.get_by_role("heading", name=title).first.wait_for(timeout=TIMEOUT_MS)
    await page.evaluate(INSTRUMENT)


async def tour(page, me: BrowserStudent) -> None:
    """After a page load and its first answer, every page the lesson visits, once, then back to
    Draw. A page's first visit loads its code into the tab, and its first visit with a digit
    the code that draws one (a step in the JS heap, not growth): memory is judged from the end
    of a tour until the next load (``bench.lesson.settled_windows``)."""
    for title in OTHER_PAGES:
        await open_page(page, title)
        await asyncio.sleep(1.0)
    await open_page(page, "Draw & predict")
    await ready(page)
    me.toured.append(time.time())


async def ready(page) -> None:
    """The Draw page is loaded (its canvas, and the model line every page draws last),
    instrumented and idle."""
    await page.locator(CANVAS).wait_for(timeout=TIMEOUT_MS)
    sidebar = page.locator("[data-testid='stSidebar']")
    await sidebar.get_by_text("on MNIST's test set; learned from").first.wait_for(
        timeout=TIMEOUT_MS
    )
    await page.locator("[data-testid='stStatusWidget']").wait_for(
        state="hidden", timeout=TIMEOUT_MS
    )
    await page.evaluate(INSTRUMENT)


class Lesson:
    """What the students share: the database (to read taps back), the deadline, the pen digits,
    and the pace of a student's pauses."""

    def __init__(self, work, pen, deadline: float, pace: Pace):
        self.work, self.pen, self.deadline, self.pace = work, pen, deadline, pace

    def newest_label(self, student_id: int) -> int | None:
        rows = self.work.student_drawings(student_id, limit=1)
        return rows[0].label if rows else None


async def _note(page, me: BrowserStudent, what: str) -> str:
    """Record what went wrong with what the page shows (and a screenshot with LESSON_SHOTS)."""
    shown = await page.evaluate(ON_SCREEN)
    line = f"{time.time():.2f} {me.nickname}, drawing {me.drawings}: {what}; on screen: {shown}"
    me.log.append(line)
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        await page.screenshot(path=f"{SHOTS}/{me.nickname}-{me.drawings}-{len(me.log)}.png")
    return line


async def _take_notices(page, me: BrowserStudent) -> None:
    """The push notices the page saw since last asked: (wall s, text, page path)."""
    me.notices.extend(
        (t / 1000, text, where) for t, text, where in await page.evaluate(TAKE_NOTICES)
    )


async def press(me: BrowserStudent, locator, what: str, attempts: int = 3) -> None:
    """Click as a person does: again when the first did not take (a control disabled while the
    page reruns, or moving); each retry is logged with why, and a third failure raises."""
    for attempt in range(attempts):
        try:
            await locator.click(timeout=10_000)
            return
        except Exception as exc:
            message = " ".join(str(exc).split())
            me.log.append(f"{time.time():.2f} {me.nickname}: {what} did not take: {message[-400:]}")
            if attempt == attempts - 1:
                raise


async def _idle(page) -> None:
    """Until the page's run is over (what a person sees once the page has settled)."""
    with contextlib.suppress(Exception):
        await page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=5_000)


async def _check(page, me: BrowserStudent, strokes: int) -> None:
    await _idle(page)
    seen = await page.evaluate(PAGE_CHECK)
    me.checks += 1
    wanted = f"Input: your drawing ({strokes} stroke{'s' if strokes != 1 else ''})."
    problems = []
    if seen["predictions"] != 1:
        problems.append(f"{seen['predictions']} predictions")
    pushed = len(seen["inputs"]) == 1 and seen["inputs"][0].startswith("Input: pushed")
    if seen["inputs"] != [wanted] and not pushed:  # a push may replace it: one answer, still
        problems.append(f"inputs {seen['inputs']}")
    if seen["panels"] > 1:
        problems.append(f"{seen['panels']} label panels")
    for flag in ("exception", "traceback", "crashed"):
        if seen[flag]:
            problems.append(flag)
    if problems:
        me.violations.append(await _note(page, me, "; ".join(problems)))


async def _answer(page, me: BrowserStudent, strokes: int) -> str | None:
    answer = await evaluate_and_wait(page, WAIT_FOR_ANSWER, [strokes, ANSWER_TIMEOUT_MS])
    back = page.get_by_role("button", name="Back to my own digit")
    timed = answer is not None
    if answer is None and await back.is_visible():
        # the teacher's push came with the drawing and took the page (as designed: the
        # student's digit is kept, one tap away); a student taps back to see their answer
        me.log.append(f"{time.time():.2f} {me.nickname}, drawing {me.drawings}: pushed over")
        me.back_from_push += 1
        await press(me, back, "Back to my own digit")
        answer = await evaluate_and_wait(page, WAIT_FOR_ANSWER, [strokes, ANSWER_TIMEOUT_MS])
    if answer is None and await page.get_by_text("This page started over").count():
        # the replica restarted: the page says so, and a new session starts with an empty pad
        me.wiped_by_restart += 1
        me.log.append(f"{time.time():.2f} {me.nickname}, drawing {me.drawings}: page started over")
        return None
    if answer is None:
        line = await _note(page, me, f"no answer for {strokes} strokes")
        late = await evaluate_and_wait(page, WAIT_FOR_ANSWER, [strokes, 10_000])
        me.unanswered.append(line + ("; it came within 10 s more" if late else "; none later"))
        return None
    if timed:  # (after a tap back from a push, the time is not the pen's)
        me.latencies_ms.append(answer["at"] - answer["penUp"])
    await _check(page, me, strokes)
    return answer["value"]


async def _tap(page, me: BrowserStudent, lesson: Lesson, student_id: int, truth: int, read):
    """One truthful tap, as a person makes it: on the panel under their answer; if a push took
    the page first, back to their own digit, then the tap. The database is then asked until the
    newest drawing has that label."""
    name = "Right" if read == str(truth) else str(truth)
    pill = page.get_by_role("radio", name=name, exact=True)
    back = page.get_by_role("button", name="Back to my own digit")
    started_over = page.get_by_text("This page started over")
    unsaved = page.get_by_text("Your drawing could not be saved")
    sent = None
    for _ in range(3):
        for _ in range(50):
            if await pill.is_visible() or await started_over.count() or await unsaved.count():
                break
            if await back.is_visible():
                await press(me, back, "Back to my own digit")
                me.back_from_push += 1
            await asyncio.sleep(0.2)
        if await unsaved.count() and not await pill.is_visible():
            me.unsaved_said += 1  # a full disk: the page says so instead of offering a label
            return
        if await started_over.count() and not await pill.is_visible():
            me.wiped_by_restart += 1  # the replica restarted under the answer: nothing to label
            return
        try:
            sent = time.time()
            await press(me, pill, f"the {name} pill", attempts=1)
            break
        except Exception:
            sent = None  # the page changed under the finger (a push, a rerun): look again
    if sent is None:
        me.violations.append(await _note(page, me, "no label panel under the student's answer"))
        return
    landed, started_over_after = None, False
    for i in range(140):  # 4 s for the label; then up to 10 s more, for it or the notice
        await asyncio.sleep(0.1)
        if await asyncio.to_thread(lesson.newest_label, student_id) == truth:
            landed = round(time.time() - sent, 2)
            break
        if i >= 40 and await started_over.count():
            started_over_after = True  # the page said its session was lost
            break
    tap = {"truth": truth, "sent": sent, "landed_after_s": landed}
    if landed is None:
        tap["page_started_over"] = started_over_after
        tap["note"] = await _note(page, me, f"the {name} tap's label is not in the database")
    me.taps.append(tap)


async def run_student(browser, url: str, me: BrowserStudent, lesson: Lesson, seed: int) -> None:
    """One student's lesson, until the deadline."""
    rng = np.random.default_rng(seed)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.on(
        "pageerror", lambda e: me.log.append(f"{time.time():.2f} {me.nickname}: page error {e}")
    )
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and me.log.append(f"{time.time():.2f} {me.nickname}: console {m.text[:300]}")
        ),
    )
    page.on(
        "framenavigated",
        lambda f: (
            f == page.main_frame
            and me.log.append(f"{time.time():.2f} {me.nickname}: navigated to {f.url}")
        ),
    )
    cdp = await context.new_cdp_session(page)
    reload_at = int(rng.integers(6, 14))  # the drawing after which this student reloads
    try:
        await _lesson_of(page, cdp, url, me, lesson, rng, reload_at)
    except Exception as exc:  # recorded and reported; the lesson goes on for the others
        me.errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
    finally:
        await context.close()


async def _lesson_of(page, cdp, url: str, me: BrowserStudent, lesson: Lesson, rng, reload_at):
    """Join, then draw until the deadline. A step that fails is recorded as an error, and the
    student carries on as a person would: the page reloaded at their own link (a second failure
    in a row ends their lesson)."""
    me.loads.append(time.time())
    await page.goto(url, timeout=180_000)
    await ready(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    await sidebar.locator("summary").filter(has_text="The class").first.click()
    await sidebar.get_by_label("Nickname").fill(me.nickname)
    await sidebar.get_by_role("button", name="Join").click()
    await sidebar.get_by_text(f"You are {me.nickname} in this class").wait_for(timeout=TIMEOUT_MS)
    student_id = (await asyncio.to_thread(lesson.work.resume, _token(page.url))).id
    me.student_id = student_id
    own_link, failed_before, previous, last_heap = page.url, False, None, 0.0
    while time.monotonic() < lesson.deadline:
        if time.time() - last_heap >= 30:
            # What the page keeps, not what it has yet to collect: a full collection first.
            await cdp.send("HeapProfiler.collectGarbage")
            used = (await cdp.send("Runtime.getHeapUsage"))["usedSize"]
            me.heap_mb.append((time.time(), round(used / 2**20, 2)))
            last_heap = time.time()
        try:
            owed = not me.toured or me.toured[-1] < me.loads[-1]  # the last load is not toured
            previous = await _one_drawing(
                page, me, lesson, rng, student_id, previous, reload_at, owed
            )
            failed_before = False
        except Exception as exc:
            me.errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
            await _note(page, me, f"a step failed ({type(exc).__name__}); reloading")
            if failed_before:
                raise
            failed_before = True
            me.loads.append(time.time())
            await page.goto(own_link, timeout=180_000)
            await ready(page)


async def _one_drawing(
    page, me, lesson, rng, student_id: int, previous, reload_at: int, tour_owed: bool
) -> int:
    """One drawing: draw (sometimes a stray stroke, undone), read the answer, tap its label,
    share some; then the tour of the pages if one is owed, and perhaps a reload or a visit to
    another page; then Clear. Returns its stroke count."""
    truth, positions = next_digit(lesson.pen, rng, previous)
    strokes = len(positions)
    me.drawings += 1
    undo = rng.random() < 0.25
    await draw(page, positions)
    if undo:  # a stray stroke, answered, then taken back
        await draw(page, [[(20, 260), (50, 270)]])
        if await _answer(page, me, strokes + 1) is not None:
            try:  # (disabled when the pad was re-created: nothing left to undo)
                await page.get_by_role("button", name="Undo", exact=True).click(timeout=3_000)
                me.undos += 1
            except Exception:
                me.undo_unavailable += 1
                await _note(page, me, "Undo disabled with a stray stroke on the pad")
    read = await _answer(page, me, strokes)
    if read is not None:
        me.answered += 1
        await asyncio.sleep(rng.uniform(*lesson.pace.reading))  # reading the answer
        await _tap(page, me, lesson, student_id, truth, read)
        share = page.get_by_text("Share this drawing with the class")
        if rng.random() < 0.3 and await share.is_visible():  # (a push may have come)
            try:
                await press(me, share, "Share")
                me.shared += 1
            except Exception:  # gone under the finger (a push took the answer, or the
                me.share_missed += 1  # page reconnected): a person moves on; counted
    await _take_notices(page, me)
    await asyncio.sleep(rng.uniform(0.5, 1.0))
    if tour_owed:  # (a tour is a step like the others: one that fails is retried after a reload)
        await tour(page, me)
    if me.drawings == reload_at:
        me.loads.append(time.time())
        await page.reload(timeout=180_000)
        await ready(page)
        me.reloads += 1  # (toured at the next step, as after every load)
    elif rng.random() < 0.15:
        await open_page(page, OTHER_PAGES[int(rng.integers(len(OTHER_PAGES)))])
        await asyncio.sleep(rng.uniform(2, 5))  # looking around there
        await _take_notices(page, me)
        await open_page(page, "Draw & predict")
        await ready(page)
        me.page_switches += 1
    await press(me, page.get_by_role("button", name="Clear", exact=True), "Clear")
    await asyncio.sleep(rng.uniform(*lesson.pace.between))
    return strokes


def _token(url: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url).query)["student"][0]
