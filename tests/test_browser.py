"""The app in a real Chromium: draw digits on the canvas, upload files, visit every page.

Serves the app on a free 127.0.0.1 port with a small model trained on real MNIST. Screenshots of
every page go to ``test-output/``. Skipped where Chromium is missing, unless
``MNIST_VIZ_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where a missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from core.test_bad_inputs import tiff_with_strip_offsets_type
from PIL import Image, ImageDraw

from deploy.browser import CANVAS
from deploy.classroom import Classroom

pytestmark = pytest.mark.browser

OUTPUT = ROOT / "test-output"
WIDTH = 1280
SETTLE = 60_000  # ms: the first page load imports TensorFlow


@contextlib.contextmanager
def serving(env: dict[str, str], log: Path | None = None) -> Iterator[str]:
    """The app as ``make run`` serves it (``deploy/serve.py``, started by the shared launcher
    ``deploy.classroom.Classroom``) on a free 127.0.0.1 port, with ``env`` added to this
    process's environment; its URL while the block runs. (``log`` is kept for callers: the
    server's log is in the launcher's folder.)"""
    with Classroom(env=env) as server:
        yield server.url


@pytest.fixture(scope="module")
def app_url(mnist_model_dir, official_mnist_path, tmp_path_factory):
    env = {"MNIST_VIZ_MODELS_DIR": str(mnist_model_dir), "MNIST_DATA": str(official_mnist_path)}
    with serving(env, tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    page = context.new_page()
    page.goto(app_url)
    page.locator(CANVAS).wait_for(timeout=SETTLE)
    yield page
    context.close()


def stroke(page, points: list[tuple[float, float]]) -> None:
    """One pen stroke through ``points`` (canvas pixels): mouse down, moves, mouse up."""
    box = page.locator(CANVAS).bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=6)
    page.mouse.up()


def prediction(page, previous: str | None = None) -> str:
    """The "Prediction" metric's value, once the app has answered (and changed from ``previous``)."""
    value = page.locator("[data-testid='stMetric']").filter(has_text="Prediction").first
    value = value.locator("[data-testid='stMetricValue']")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if value.count() and (text := value.inner_text().strip()) and text != previous:
            return text
        time.sleep(0.2)
    raise AssertionError("no new prediction appeared")


def assert_no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    text = page.locator("body").inner_text()
    assert "Traceback" not in text and "Error:" not in text, text[:2000]
    overflow = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return m.scrollWidth - m.clientWidth; }"
    )
    assert overflow <= 0, f"the page overflows {WIDTH} px by {overflow} px"


def wait_until_idle(page) -> None:
    """Until Streamlit has finished the current run: its status widget is gone and the sidebar's
    model line, which every page draws last, is there."""
    page.wait_for_timeout(500)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=SETTLE)
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("on MNIST's test set; learned from").first.wait_for(timeout=SETTLE)
    page.wait_for_timeout(500)


def screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its own container, so the viewport is grown to
    the content's height instead of using Playwright's full_page."""
    OUTPUT.mkdir(exist_ok=True)
    page.set_viewport_size({"width": WIDTH, "height": 6000})
    page.wait_for_timeout(1500)
    height = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight"
    )
    page.set_viewport_size({"width": WIDTH, "height": max(800, min(height + 80, 6000))})
    page.wait_for_timeout(800)
    page.screenshot(path=str(OUTPUT / f"{name}.png"))
    page.set_viewport_size({"width": WIDTH, "height": 1000})


def open_page(page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=SETTLE)
    wait_until_idle(page)


def draw_one(page) -> None:
    stroke(page, [(145, 40), (141, 140), (137, 240)])


def draw_zero(page) -> None:
    points = [
        (140 + 55 * math.sin(2 * math.pi * t / 24), 140 - 95 * math.cos(2 * math.pi * t / 24))
        for t in range(26)
    ]
    stroke(page, points)


def test_drawn_one_and_zero_are_recognised(page):
    draw_one(page)
    assert prediction(page) == "1"
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "draw-1")

    # Clear empties the canvas in the browser: a digit drawn at once, without waiting for the
    # server, lands on the empty canvas and is answered as a drawing of its own one stroke.
    page.get_by_role("button", name="Clear", exact=True).click()
    draw_zero(page)
    page.get_by_text("Input: your drawing (1 stroke).").first.wait_for(timeout=SETTLE)
    assert prediction(page, previous="1") == "0"
    wait_until_idle(page)
    assert_no_exception(page)
    # and a Clear alone brings back the prompt
    page.get_by_role("button", name="Clear", exact=True).click()
    page.get_by_text("Draw a digit").first.wait_for(timeout=SETTLE)


def test_a_stroke_begun_in_the_top_right_corner_is_drawn(page):
    # The canvas's own toolbar is invisible until hovered, yet lay over the canvas's top-right
    # corner until its slide-up transition had run: a stroke begun there at once (or with a
    # finger, which never hovers) was swallowed. Come from the Clear button, start there at once.
    page.get_by_role("button", name="Clear", exact=True).hover()
    stroke(page, [(250, 12), (235, 100), (220, 190), (205, 265)])
    page.get_by_text("Input: your drawing (1 stroke).").first.wait_for(timeout=SETTLE)


def test_undo_takes_back_the_last_stroke(page):
    undo = page.get_by_role("button", name="Undo", exact=True)
    assert undo.is_disabled()  # nothing drawn yet
    draw_one(page)
    assert prediction(page) == "1"
    stroke(page, [(60, 150), (140, 150), (220, 150)])  # a bar across it
    page.get_by_text("Input: your drawing (2 strokes).").first.wait_for(timeout=SETTLE)
    undo.click()
    page.get_by_text("Input: your drawing (1 stroke).").first.wait_for(timeout=SETTLE)
    assert prediction(page) == "1"
    undo.click()  # back to the empty canvas: the prompt returns, and nothing is left to undo
    page.get_by_text("Draw a digit").first.wait_for(timeout=SETTLE)
    assert undo.is_disabled()
    assert_no_exception(page)


class SlowServer:
    """Relays a page's websocket and, while ``holding``, keeps back what the server sends, in
    order: the page behaves as it would with a server too busy to answer for a while."""

    def __init__(self):
        self.holding = False
        self.held: list = []
        self.to_page = None

    def route(self, ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(server.send)
        server.on_message(self._from_server)
        self.to_page = ws

    def _from_server(self, message) -> None:
        if self.holding or self.held:  # also while releasing: keep the order
            self.held.append(message)
        else:
            self.to_page.send(message)

    def release(self) -> None:
        self.holding = False
        while self.held:
            self.to_page.send(self.held.pop(0))


def test_clear_never_waits_for_a_busy_server(browser, app_url):
    # In a busy class the server may answer a Clear late. A digit drawn right after Clear must
    # survive that: the canvas is emptied in the browser, and nothing the server sends later
    # may wipe the new strokes (a server-side clear re-creates the canvas when it arrives).
    context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    slow = SlowServer()
    page = context.new_page()
    page.route_web_socket("**/_stcore/stream", slow.route)
    try:
        page.goto(app_url)
        page.locator(CANVAS).wait_for(timeout=SETTLE)
        draw_one(page)
        assert prediction(page) == "1"
        wait_until_idle(page)

        slow.holding = True
        page.get_by_role("button", name="Clear", exact=True).click()
        draw_zero(page)
        page.wait_for_timeout(1500)  # the server has both by now; the page has heard nothing
        slow.release()

        page.get_by_text("Input: your drawing (1 stroke).").first.wait_for(timeout=SETTLE)
        assert prediction(page, previous="1") == "0"
        wait_until_idle(page)
        page.wait_for_timeout(1000)
        # still the 0, on the canvas and in the answer
        assert page.get_by_text("Input: your drawing (1 stroke).").count() >= 1
        assert prediction(page, previous="1") == "0"
    finally:
        context.close()


def detached_dom_nodes(page) -> int:
    """DOM nodes no longer on the page that it still keeps after a full collection (a V8 heap
    snapshot's detached nodes)."""
    cdp = page.context.new_cdp_session(page)
    chunks: list[str] = []
    cdp.on("HeapProfiler.addHeapSnapshotChunk", lambda event: chunks.append(event["chunk"]))
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("HeapProfiler.takeHeapSnapshot", {"reportProgress": False})
    snapshot = json.loads("".join(chunks))
    fields = snapshot["snapshot"]["meta"]["node_fields"]
    detached = snapshot["nodes"][fields.index("detachedness") :: len(fields)]
    return sum(1 for state in detached if state == 2)


def test_answers_drawn_and_cleared_leave_no_detached_pages_behind(page):
    # Without ui/style.py's guard, React Aria kept every answer whose expander was removed in
    # the middle of its border transition: 257 detached nodes after these six drawings.
    for i in range(6):
        (draw_zero if i % 2 else draw_one)(page)
        prediction(page)
        wait_until_idle(page)
        page.get_by_role("button", name="Clear", exact=True).click()
        page.locator("[data-testid='stMetric']").filter(has_text="Prediction").first.wait_for(
            state="detached", timeout=SETTLE
        )
        wait_until_idle(page)
    assert detached_dom_nodes(page) < 40


def test_every_page_runs_with_a_drawn_digit(page):
    draw_zero(page)
    assert prediction(page) == "0"
    wait_until_idle(page)
    screenshot(page, "draw-0")
    for title, name in [
        ("Inside the network", "network"),
        ("Training & evaluation", "training"),
        ("Why this prediction", "why"),
        ("What each filter wants to see", "filters"),
        ("The network and the visual cortex", "cortex"),
        ("Adversarial lab", "lab-1"),
    ]:
        open_page(page, title)
        assert_no_exception(page)
        screenshot(page, name)
    # the digit drawn on the first page is still the current digit in the sidebar
    sidebar = page.locator("[data-testid='stSidebar'] [data-testid='stMetricValue']").first
    assert sidebar.inner_text().strip() == "0"


def test_why_maps_of_the_predicted_class_and_of_a_class_near_zero(page):
    """The explanation maps of the answer and of the least likely class, on shared scales, with
    their ranges in numbers (screenshots: test-output/why-predicted.png, why-least-likely.png)."""
    draw_zero(page)
    assert prediction(page) == "0"
    wait_until_idle(page)
    open_page(page, "Why this prediction")
    maps = page.locator("[data-testid='stImage'] img[alt*='for the score of']")
    assert maps.count() == 4
    screenshot(page, "why-predicted")
    page.get_by_role("combobox", name="Explain the score of").click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=SETTLE)
    texts = [options.nth(i).inner_text() for i in range(options.count())]
    candidates = [t for t in texts if "predicted" not in t]
    shares = [float(re.search(r"\(([\d.]+)%\)", t).group(1)) for t in candidates]
    least = candidates[shares.index(min(shares))]
    options.filter(has_text=least).first.click()
    wait_until_idle(page)
    assert_no_exception(page)
    assert maps.count() == 8  # the answer's row and the chosen class's row
    chosen = least.split(" ")[0]
    alts = [maps.nth(i).get_attribute("alt") for i in range(8)]
    assert sum(f"for the score of {chosen}," in a for a in alts) == 4
    occlusion = next(a for a in alts if a.startswith(f"Occlusion for the score of {chosen},"))
    assert re.search(r"from [+-]?[\d.]+ pp to [+-]?[\d.]+ pp", occlusion), occlusion
    assert "the same for all ten classes" in occlusion
    screenshot(page, "why-least-likely")


def click_unit(panel, row: int, col: int) -> None:
    """Click one unit of the one-unit panel's map (each cell is labelled by Vega-Lite)."""
    chart = panel.locator("[data-testid='stVegaLiteChart']")
    chart.get_by_label(re.compile(rf"^column: {col}; row: {row};")).click()


def test_clicking_a_unit_shows_its_arithmetic(page):
    draw_zero(page)
    assert prediction(page) == "0"
    wait_until_idle(page)
    open_page(page, "Inside the network")
    panel = page.locator("[data-testid='stExpander']").filter(has_text="One unit of conv1")
    panel.locator("summary").click()
    for row, col in [(3, 4), (13, 20)]:
        click_unit(panel, row, col)
        patch = f"Input patch, rows {row}-{row + 2}, columns {col}-{col + 2}"
        panel.get_by_text(patch).wait_for(timeout=SETTLE)
        assert panel.get_by_role("spinbutton", name="Row").input_value() == str(row)
        assert panel.get_by_role("spinbutton", name="Column").input_value() == str(col)
        computed, shown = re.search(
            r"(-?[\d.]+), as the map shows \((-?[\d.]+)\)", panel.inner_text()
        ).groups()
        assert computed == shown
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "unit-click")
    # a pooling unit: its 2x2 window in the map before
    page.get_by_role("radio", name=re.compile(r"^pool1 ")).click()
    panel = page.locator("[data-testid='stExpander']").filter(has_text="One unit of pool1")
    panel.locator("summary").click()
    click_unit(panel, 6, 5)
    panel.get_by_text("window of the map before, from row 12, column 10").wait_for(timeout=SETTLE)
    wait_until_idle(page)
    assert_no_exception(page)


def test_how_it_learns_a_step_by_keyboard_and_by_a_click_on_the_gradient(page):
    """A drawing asks for its true label; the weight is chosen by a click on the gradient map and
    by the keyboard; a step, another, Reset; then the two learning rules side by side."""
    draw_zero(page)
    assert prediction(page) == "0"
    wait_until_idle(page)
    open_page(page, "How it learns")
    main = page.locator("[data-testid='stMain']")
    main.get_by_text("Choose the digit's true label").wait_for(timeout=SETTLE)
    page.get_by_role("combobox", name=re.compile("What digit is it really")).click()
    page.get_by_role("option", name="0", exact=True).click()
    main.get_by_text("L = -log p(0)").wait_for(timeout=SETTLE)
    wait_until_idle(page)
    chart = main.locator("[data-testid='stVegaLiteChart']").first
    chart.get_by_label(re.compile(r"^column: 2; row: 1;")).first.click()
    main.get_by_text(re.compile(r"conv1: row 1, column 2, input channel 0")).wait_for(
        timeout=SETTLE
    )
    wait_until_idle(page)
    channel = page.get_by_role("spinbutton", name="Output channel")
    before = int(channel.input_value())
    channel.focus()
    page.keyboard.press("ArrowUp" if before < 31 else "ArrowDown")
    page.keyboard.press("Enter")
    after = before + 1 if before < 31 else before - 1
    main.get_by_text(f"output channel {after}: its gradient").wait_for(timeout=SETTLE)
    wait_until_idle(page)
    gradient = float(
        re.search(r"its gradient now, dL/dw = (\S+)", main.inner_text()).group(1).rstrip(".")
    )
    page.get_by_role("button", name="Take one step").click()
    main.get_by_text("Step 1 on this digit").wait_for(timeout=SETTLE)
    wait_until_idle(page)
    table = main.locator("[data-testid='stTable']").filter(has_text="the loss L").inner_text()
    shown = float(re.search(r"-0\.1 x (\S+) =", table).group(1))
    assert shown == pytest.approx(gradient, rel=1e-5, abs=1e-9), table  # the chain's gradient
    page.get_by_role("button", name="Step again").click()
    main.get_by_text("Step 2 on this digit").wait_for(timeout=SETTLE)
    wait_until_idle(page)
    page.get_by_role("button", name="Reset").click()
    main.get_by_text("No step taken yet").wait_for(timeout=SETTLE)
    wait_until_idle(page)
    page.get_by_role("button", name="Train both side by side").click()
    main.get_by_text("backpropagation reads").wait_for(timeout=120_000)
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "how-it-learns")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing wider than it
    page.wait_for_timeout(1500)
    assert_no_exception(page)


def _png(draw_fn) -> bytes:
    img = Image.new("RGB", (300, 400), (235, 232, 220))  # paper
    draw_fn(ImageDraw.Draw(img))
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def test_uploads_a_photo_then_refuses_a_broken_file(page):
    page.get_by_role("tab", name="Upload a photo").click()
    seven = _png(lambda d: d.line([(70, 90), (230, 90), (120, 330)], fill=(30, 30, 40), width=22))
    page.locator("input[type='file']").set_input_files(
        {"name": "seven.png", "mimeType": "image/png", "buffer": seven}
    )
    assert prediction(page) == "7"
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "upload")

    page.locator("input[type='file']").set_input_files(
        {"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image at all"}
    )
    page.get_by_text("could not be used").first.wait_for(timeout=SETTLE)
    wait_until_idle(page)
    assert prediction(page) == "7"  # the previous digit stays
    assert page.locator("[data-testid='stException']").count() == 0

    # another broken file (a TIFF whose strip offsets have the wrong type) gets its own message,
    # which stays through later reruns of the page while that file is chosen
    page.locator("input[type='file']").set_input_files(
        {"name": "scan.tif", "mimeType": "image/tiff", "buffer": tiff_with_strip_offsets_type(5)}
    )
    page.get_by_text("scan.tif could not be used").first.wait_for(timeout=SETTLE)
    page.get_by_role("tab", name="Draw").click()
    page.get_by_role("slider").first.focus()
    page.keyboard.press("ArrowRight")  # pen width: a full rerun of the page
    wait_until_idle(page)
    page.get_by_role("tab", name="Upload a photo").click()
    assert page.get_by_text("scan.tif could not be used").count() == 1
    assert prediction(page) == "7"
    assert_no_exception(page)


def sweep_text(page, part: str) -> str:
    """Text shown by the lab's slider component (``ui/components/sweep/sweep.js``), e.g. ".sw-adv-cls"."""
    return page.locator(f".sw {part}").first.inner_text().strip()


def test_the_lab_slider_breaks_a_drawn_digit(page):
    draw_one(page)
    assert prediction(page) == "1"
    wait_until_idle(page)
    open_page(page, "Adversarial lab")
    assert sweep_text(page, ".sw-clean-cls") == "1"
    slider = page.get_by_role("slider", name="epsilon")
    slider.focus()
    page.keyboard.press("Home")  # epsilon 0: nothing changes, and no request to the server
    assert sweep_text(page, ".sw-eps") == "0.00" and sweep_text(page, ".sw-adv-cls") == "1"
    assert "nothing changes" in sweep_text(page, ".sw-verdict")
    page.keyboard.press("End")  # epsilon 0.5: far beyond what this network withstands
    assert sweep_text(page, ".sw-eps") == "0.50"
    assert sweep_text(page, ".sw-adv-cls") != "1"
    assert sweep_text(page, ".sw-verdict").startswith("Fooled.")
    assert float(sweep_text(page, ".sw-linf")) <= 0.5
    # releasing the slider moves the rest of the page to the same epsilon
    page.get_by_text("How the change travels through the network (epsilon 0.50)").wait_for(
        timeout=SETTLE
    )
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "lab")


PHONE = {"width": 390, "height": 844}


def touch_stroke(page, cdp, points: list[tuple[float, float]]) -> None:
    """One finger stroke through ``points`` (canvas pixels), as a touch screen reports it."""
    box = page.locator(CANVAS).bounding_box()
    at = [{"x": box["x"] + x, "y": box["y"] + y} for x, y in points]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [at[0]]})
    for point in at[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        page.wait_for_timeout(16)  # one frame per move, as a finger reports
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_drawing_with_a_finger_on_a_phone(browser, app_url):
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        page.goto(app_url)
        page.locator(CANVAS).wait_for(timeout=SETTLE)
        wait_until_idle(page)
        cdp = context.new_cdp_session(page)
        top = page.locator(CANVAS).bounding_box()["y"]
        # an upward swipe on the canvas draws a 1 and does not scroll the page
        touch_stroke(page, cdp, [(141, 250 - 20 * i) for i in range(11)])
        assert prediction(page) == "1"
        assert page.locator(CANVAS).bounding_box()["y"] == top
        wait_until_idle(page)
        # the same swipe beside the canvas scrolls (so the check above can fail)
        cdp.send(
            "Input.dispatchTouchEvent",
            {"type": "touchStart", "touchPoints": [{"x": 370, "y": 700}]},
        )
        for i in range(1, 12):
            cdp.send(
                "Input.dispatchTouchEvent",
                {"type": "touchMove", "touchPoints": [{"x": 370, "y": 700 - 30 * i}]},
            )
            page.wait_for_timeout(16)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        page.wait_for_timeout(800)
        assert page.locator(CANVAS).bounding_box()["y"] < top - 50
        # Clear with a tap, and a 0 drawn with a finger
        page.get_by_role("button", name="Clear", exact=True).tap()
        page.get_by_text("Draw a digit").first.wait_for(timeout=SETTLE)
        circle = [
            (140 + 55 * math.sin(2 * math.pi * t / 24), 140 - 95 * math.cos(2 * math.pi * t / 24))
            for t in range(26)
        ]
        touch_stroke(page, cdp, circle)
        assert prediction(page, previous="1") == "0"
        wait_until_idle(page)
        assert_no_exception(page)
        # nothing is wider than the phone; the 28 x 28 grid scrolls inside its own box
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        box = page.locator(".mv-pxbox").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "phone-draw.png"))
        page.locator(".mv-pxbox").scroll_into_view_if_needed()
        page.screenshot(path=str(OUTPUT / "phone-pixels.png"))
        # A finger never hovers: the canvas's own (hidden) toolbar once lay over its top-right
        # corner for good on a touch screen. A stroke begun there is drawn.
        page.get_by_role("button", name="Clear", exact=True).tap()
        page.get_by_text("Draw a digit").first.wait_for(timeout=SETTLE)
        page.locator(CANVAS).scroll_into_view_if_needed()
        touch_stroke(page, cdp, [(250 - 4 * i, 12 + 23 * i) for i in range(12)])
        page.get_by_text("Input: your drawing (1 stroke).").first.wait_for(timeout=SETTLE)
    finally:
        context.close()


def test_pushes_that_stop_arriving_are_said_and_asked_for_less_often(browser, app_url):
    """The push follower (ui/components/push/push.js) under a server that answers 429: it backs off
    (at 500 ms it would ask about 24 times in 12 s) and says so in words; the sentence goes when
    the answers come back."""
    context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    asked: list[float] = []
    push_file = re.compile(r".*/app/static/push-[^/]*\.json.*")

    def refuse(route) -> None:
        asked.append(time.monotonic())
        route.fulfill(status=429, body="")

    try:
        page = context.new_page()
        page.route(push_file, refuse)
        page.goto(app_url)
        page.locator(CANVAS).wait_for(timeout=SETTLE)
        notice = page.get_by_text("The teacher's pushes are not arriving")
        notice.wait_for(timeout=40_000)
        assert "the server answered 429" in notice.text_content()
        first = asked[0]
        assert len([t for t in asked if t - first < 12]) <= 8, asked
        page.unroute(push_file)
        notice.wait_for(state="detached", timeout=30_000)
        assert_no_exception(page)
    finally:
        context.close()


def _forward_messages(frames: list) -> list:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    return [ForwardMsg.FromString(f) for f in frames if isinstance(f, bytes)]


def test_the_server_never_answers_with_a_reference_to_a_cached_message(browser, app_url):
    # Streamlit sends a large element the browser has seen before as a reference to the
    # browser's cache; under load the browser can have dropped it by then ("Cached ForwardMsg
    # MISS"), which ends the page's connection for good. The app's config turns references off.
    context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    page = context.new_page()
    frames: list = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: frames.append(frame)))
    try:
        page.goto(app_url)
        page.locator(CANVAS).wait_for(timeout=SETTLE)
        draw_one(page)
        assert prediction(page) == "1"
        wait_until_idle(page)
        open_page(page, "Inside the network")  # large elements: the maps of every layer
        # the same digit again in whole runs: most large elements are ones the browser has
        slider = page.locator("[data-testid='stMain']").get_by_role("slider").first
        for key in ("ArrowRight", "ArrowLeft"):
            slider.focus()
            page.keyboard.press(key)
            wait_until_idle(page)
        messages = _forward_messages(frames)
        references = [m for m in messages if m.WhichOneof("type") == "ref_hash"]
        assert references == [], f"{len(references)} messages sent as references"
        # ... and the test could have seen one: large elements were sent again, in full
        large = [
            m.hash
            for m in messages
            if m.WhichOneof("type") == "delta" and len(m.SerializeToString()) >= 10_000
        ]
        assert len(large) > len(set(large)), "no large element was sent twice"
        assert_no_exception(page)
    finally:
        context.close()


def test_pages_ask_nothing_of_other_hosts(browser, app_url):
    # A school network may be closed, and a student's browser should not tell a third party
    # which pages they open: every request goes to the app's own server.
    from urllib.parse import urlsplit

    context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname or urlsplit(r.url).scheme))
    try:
        page.goto(app_url)
        page.locator(CANVAS).wait_for(timeout=SETTLE)
        draw_one(page)
        assert prediction(page) == "1"
        for title in ("Inside the network", "Training & evaluation"):
            open_page(page, title)
        assert hosts <= {"127.0.0.1", "data", "blob"}, hosts
    finally:
        context.close()
