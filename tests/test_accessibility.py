"""WCAG 2.2 AA in a real Chromium: axe-core on every page in the light and the dark theme, the
keyboard-only paths, what a screen reader gets from the Draw page, and the answer in view on a
phone.

axe-core (npm, ``package.json``; ``make test`` installs it) is injected into each page and run with
its full rule set; any critical or serious violation fails. The pages are audited as a learner
meets them: a test digit chosen, the lab at a non-zero epsilon, the class view signed in.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator

import pytest
from conftest import ROOT
from test_browser import (
    CANVAS,
    OUTPUT,
    PHONE,
    SETTLE,
    WIDTH,
    open_page,
    prediction,
    serving,
    touch_stroke,
    wait_until_idle,
)

from bench.app_pages import page_titles
from deploy.browser import evaluate_and_wait
from mnist_viz.classroom.access import PASSWORD_ENV_VAR

pytestmark = pytest.mark.browser
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "an accessible password"
PAGES = page_titles()  # every page the router lists


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        message = f"axe-core is not installed at {AXE} (make test runs npm ci)"
        if os.environ.get("MNIST_VIZ_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def a11y_server(mnist_model_dir, official_mnist_path, tmp_path_factory):
    env = {
        "MNIST_VIZ_MODELS_DIR": str(mnist_model_dir),
        "MNIST_DATA": str(official_mnist_path),
        "MNIST_VIZ_DATA_DIR": str(tmp_path_factory.mktemp("a11y-data")),
        PASSWORD_ENV_VAR: PASSWORD,
    }
    with serving(env, tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@contextlib.contextmanager
def app_page(browser, url: str, **options) -> Iterator:
    """A page of the app in a browser context of its own (a desktop window unless ``options``
    say otherwise), loaded and idle; the context is closed after the block."""
    context = browser.new_context(**({"viewport": {"width": WIDTH, "height": 1000}} | options))
    try:
        page = context.new_page()
        page.goto(url)
        page.locator(CANVAS).wait_for(timeout=SETTLE)
        wait_until_idle(page)
        yield page
    finally:
        context.close()


def serious_violations(page, axe_source: str) -> list[str]:
    """axe-core's critical and serious violations on the page as it is, one line per node."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    result = evaluate_and_wait(page, "() => axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for rule in result["violations"]:
        if rule["impact"] in ("critical", "serious"):
            for node in rule["nodes"]:
                lines.append(
                    f"{rule['id']} ({rule['impact']}): {node['target']} {node['failureSummary']}"
                )
    return lines


def go_to(page, title: str) -> None:
    """Open a page from the sidebar's navigation and wait for its run to end."""
    if title != "The class (teacher)":
        return open_page(page, title)
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).click()
    page.get_by_role("heading", name="The class").first.wait_for(timeout=SETTLE)
    wait_until_idle(page)


def choose_test_digit(page) -> None:
    page.get_by_role("tab", name="Pick a test digit").click()
    page.get_by_role("button", name="Random test digit").click()
    prediction(page)
    wait_until_idle(page)


def sign_in(page) -> None:
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.locator("summary").filter(has_text="For the teacher").click()
    sidebar.get_by_label("Teacher password").fill(PASSWORD)
    sidebar.get_by_role("button", name="Sign in").click()
    page.locator("[data-testid='stMetric']").filter(has_text="Drawings saved").wait_for(
        timeout=SETTLE
    )
    wait_until_idle(page)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_critical_or_serious_violation_on_any_page(browser, a11y_server, axe_source, theme):
    with app_page(browser, a11y_server, color_scheme=theme) as page:
        # the app follows the browser's theme (so this audits the theme it claims to)
        background = page.evaluate(
            "() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]'))"
            ".backgroundColor"
        )
        channels = [int(c) for c in background[background.index("(") + 1 : -1].split(",")[:3]]
        assert (sum(channels) < 300) == (theme == "dark"), background
        choose_test_digit(page)
        found = {}
        for title in PAGES:
            if title != "Draw & predict":
                go_to(page, title)
            if title == "Adversarial lab":
                page.get_by_role("slider", name="epsilon").focus()
                page.keyboard.press("End")  # epsilon 0.5: the page follows the released slider
                page.get_by_text("through the network (epsilon 0.50)").wait_for(timeout=SETTLE)
                wait_until_idle(page)
            if title == "How it learns":  # its two learning curves, and their tables
                start = page.get_by_role("button", name="Train both side by side")
                if start.count():  # (the second theme finds the run done)
                    start.click()
                page.get_by_text("backpropagation reads").wait_for(timeout=120_000)
                wait_until_idle(page)
            if title == "The class (teacher)":
                found[title + ", signed out"] = serious_violations(page, axe_source)
                sign_in(page)
            found[title] = serious_violations(page, axe_source)
        failing = {title: lines for title, lines in found.items() if lines}
        OUTPUT.mkdir(exist_ok=True)
        (OUTPUT / f"axe-{theme}.json").write_text(json.dumps(found, indent=1))
        assert not failing, json.dumps(failing, indent=1)[:6000]


# -- the keyboard alone -------------------------------------------------------------------------

# the element that has the focus, inside shadow roots too, as ``el``
DEEPEST_FOCUS = """let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;"""
FOCUSED = (
    """() => {
  """
    + DEEPEST_FOCUS
    + """
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), role: el.getAttribute("role") || "", type: el.type || "",
    name: (el.getAttribute("aria-label") || el.innerText || el.value || "").trim().slice(0, 80),
    selected: el.getAttribute("aria-selected"),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== "none",
  };
}"""
)


def tab_to(page, wanted, limit: int = 120) -> dict:
    """Press Tab until the focused element (inside shadow roots too) is ``wanted``; it must show
    that it has the focus (an outline or a focus ring)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused and wanted(focused):
            assert focused["outline"] or focused["shadow"], f"no visible focus on {focused}"
            return focused
    raise AssertionError(f"Tab never reached the element after {limit} presses")


def named(role_or_tag: str, name: str):
    """An element by role (or tag) and the last line of its text (nav links start with an
    icon's name)."""
    return lambda f: (
        (f["role"] == role_or_tag or f["tag"] == role_or_tag)
        and (f["name"].splitlines()[-1].strip() == name if f["name"] else False)
    )


def test_keyboard_only_prediction_lab_slider_and_teacher_sign_in(browser, a11y_server):
    with app_page(browser, a11y_server) as page:
        # start page -> a prediction: the tabs, then the test digit's button
        tab_to(page, named("tab", "Draw"))
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")
        assert page.evaluate(FOCUSED)["name"] == "Pick a test digit"
        tab_to(page, named("button", "Random test digit"))
        page.keyboard.press("Enter")
        read = prediction(page)
        wait_until_idle(page)

        # -> the lab's slider, through the sidebar's navigation
        tab_to(page, named("a", "Adversarial lab"))
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Adversarial lab").first.wait_for(timeout=SETTLE)
        wait_until_idle(page)
        slider = tab_to(page, lambda f: f["type"] == "range" and f["name"] == "epsilon")
        assert slider["tag"] == "input"
        page.keyboard.press("Home")
        assert page.locator(".sw .sw-eps").first.inner_text() == "0.00"
        assert page.locator(".sw .sw-clean-cls").first.inner_text() == read
        page.keyboard.press("End")
        assert page.locator(".sw .sw-eps").first.inner_text() == "0.50"
        announced = page.evaluate(
            f"() => {{ {DEEPEST_FOCUS} return el.getAttribute('aria-valuetext'); }}"
        )
        assert announced.startswith("epsilon 0.50: read as ")
        page.get_by_text("through the network (epsilon 0.50)").wait_for(timeout=SETTLE)
        wait_until_idle(page)

        # -> the teacher's sign-in, in the sidebar of the class view
        tab_to(page, named("a", "The class (teacher)"))
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="The class").first.wait_for(timeout=SETTLE)
        wait_until_idle(page)
        tab_to(page, lambda f: f["tag"] == "summary" and "For the teacher" in f["name"])
        page.keyboard.press("Enter")
        tab_to(page, lambda f: f["tag"] == "input" and f["type"] == "password")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.locator("[data-testid='stMetric']").filter(has_text="Drawings saved").wait_for(
            timeout=SETTLE
        )


KEYS_REACHING_THE_DOCUMENT = """() => {
  window.__keys = [];
  document.addEventListener("keydown", (e) => window.__keys.push(e.key));
}"""


def test_streamlits_shortcuts_do_not_fire_inside_the_apps_components(browser, a11y_server):
    # Streamlit listens on the document for "r" (rerun) and "c" (clear caches). Keys pressed in
    # the lab's slider or the pen tools must stay there.
    with app_page(browser, a11y_server) as page:
        page.evaluate(KEYS_REACHING_THE_DOCUMENT)
        page.get_by_role("button", name="Clear", exact=True).focus()
        page.keyboard.press("r")
        page.keyboard.press("c")
        page.evaluate(f"() => {{ {DEEPEST_FOCUS} el.blur(); }}")
        page.keyboard.press("x")  # the control: a key pressed outside reaches the document
        assert page.evaluate("() => window.__keys") == ["x"]

        choose_test_digit(page)
        open_page(page, "Adversarial lab")
        page.evaluate(KEYS_REACHING_THE_DOCUMENT)
        page.get_by_role("slider", name="epsilon").focus()
        page.keyboard.press("r")
        page.keyboard.press("c")
        page.wait_for_timeout(1000)
        assert page.evaluate("() => window.__keys") == []
        assert page.get_by_text("Clear caches").count() == 0


def test_a_screen_reader_hears_the_prediction_and_the_ten_probabilities(browser, a11y_server):
    with app_page(browser, a11y_server) as page:
        choose_test_digit(page)
        read = prediction(page)
        tree = page.locator("[data-testid='stMain']").aria_snapshot()
        (OUTPUT / "draw-accessibility-tree.txt").write_text(tree)
        assert f"Prediction: {read} (" in tree, tree[:3000]  # the answer in one sentence
        for d in range(10):
            assert re.search(rf"digit {d}, probability \d+\.\d\d%", tree), (d, tree[:3000])
        # the spoken probabilities are the page's own: the predicted digit's is the highest
        spoken = {
            int(d): float(p)
            for d, p in re.findall(r"digit (\d), probability (\d+\.\d\d)%", tree)[:10]
        }
        assert max(spoken, key=spoken.get) == int(read)


def test_on_a_phone_the_answer_is_in_view_after_a_finger_stroke(browser, a11y_server):
    phone = {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    with app_page(browser, a11y_server, **phone) as page:
        cdp = page.context.new_cdp_session(page)
        top = page.locator(CANVAS).bounding_box()["y"]
        touch_stroke(page, cdp, [(141, 250 - 20 * i) for i in range(11)])
        answer = page.locator(".mv-phone-answer")
        answer.get_by_text("Prediction: 1").wait_for(timeout=SETTLE)
        assert page.locator(CANVAS).bounding_box()["y"] == top  # nothing scrolled
        box = answer.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "phone-answer-in-view.png"))
        # on a wide screen the one-line copy is for screen readers only: the full answer is
        # beside the pad
        page.set_viewport_size({"width": WIDTH, "height": 1000})
        page.wait_for_timeout(300)
        box = answer.bounding_box()
        assert box["width"] <= 1 and box["height"] <= 1, box
