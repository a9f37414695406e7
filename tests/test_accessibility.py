"""WCAG 2.2 AA in a real Chromium: axe-core on every page in the light and the dark theme, the
keyboard-only paths, what a screen reader gets from the Draw page, and the answer in view on a
phone.

axe-core (npm, ``package.json``; ``make test`` installs it) is injected into each page and run with
its full rule set; any critical or serious violation fails. The pages are audited as a learner
meets them: a test digit chosen, the lab at a non-zero epsilon, the class view signed in.
"""

from __future__ import annotations

import json
import os

import pytest
from conftest import ROOT
from test_browser import (
    CANVAS,
    OUTPUT,
    SETTLE,
    WIDTH,
    open_page,
    prediction,
    serving,
    wait_until_idle,
)

from mnist_viz.access import PASSWORD_ENV_VAR

pytestmark = pytest.mark.browser
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "an accessible password"
PAGES = [
    "Draw & predict",
    "Inside the network",
    "Training & evaluation",
    "Why this prediction",
    "What each filter wants to see",
    "The network and the visual cortex",
    "Adversarial lab",
    "Compare two networks",
    "My work",
    "The class (teacher)",
]


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


def serious_violations(page, axe_source: str) -> list[str]:
    """axe-core's critical and serious violations on the page as it is, one line per node."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
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
    context = browser.new_context(viewport={"width": WIDTH, "height": 1000}, color_scheme=theme)
    try:
        page = context.new_page()
        page.goto(a11y_server)
        page.locator(CANVAS).wait_for(timeout=SETTLE)
        wait_until_idle(page)
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
            if title == "The class (teacher)":
                found[title + ", signed out"] = serious_violations(page, axe_source)
                sign_in(page)
            found[title] = serious_violations(page, axe_source)
        failing = {title: lines for title, lines in found.items() if lines}
        OUTPUT.mkdir(exist_ok=True)
        (OUTPUT / f"axe-{theme}.json").write_text(json.dumps(found, indent=1))
        assert not failing, json.dumps(failing, indent=1)[:6000]
    finally:
        context.close()
