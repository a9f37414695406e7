"""The class in a real Chromium: a student joins, draws, labels, shares, reloads and finds their
gallery; the teacher opens the class view, pushes a digit that reaches the student's page, runs a
challenge the student submits to from the lab, and exports the class's drawings.

One server with a teacher password and a data folder of its own; the records are read back from
that folder's database to check what the pages claim. Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import csv
import io
import time

import numpy as np
import pytest
from test_browser import (
    CANVAS,
    SETTLE,
    WIDTH,
    assert_no_exception,
    draw_one,
    open_page,
    prediction,
    screenshot,
    serving,
    wait_until_idle,
)

from mnist_viz.classroom.access import PASSWORD_ENV_VAR
from mnist_viz.classroom.classwork import ClassWork
from mnist_viz.classroom.store import Store

pytestmark = pytest.mark.browser
PASSWORD = "a long class password"
PUSH_WITHIN_S = 2.0  # the issue's promise: a pushed digit is on students' pages within 2 s


@pytest.fixture(scope="module")
def class_server(mnist_model_dir, official_mnist_path, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("class-data")
    env = {
        "MNIST_VIZ_MODELS_DIR": str(mnist_model_dir),
        "MNIST_DATA": str(official_mnist_path),
        "MNIST_VIZ_DATA_DIR": str(data_dir),
        PASSWORD_ENV_VAR: PASSWORD,
    }
    with serving(env, tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url, data_dir


def records(data_dir) -> ClassWork:
    return ClassWork(Store(f"sqlite:///{data_dir / 'class.sqlite3'}"))


def sidebar(page):
    return page.locator("[data-testid='stSidebar']")


def open_class_expander(page) -> None:
    expander = sidebar(page).locator("[data-testid='stExpander']").filter(has_text="The class")
    expander.locator("summary").first.click()


def test_a_students_work_and_the_teachers_class_view(browser, class_server):
    url, data_dir = class_server
    student_context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    teacher_context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    try:
        student = student_context.new_page()
        student.goto(url)
        student.locator(CANVAS).wait_for(timeout=SETTLE)
        wait_until_idle(student)

        # -- the student joins under a nickname
        open_class_expander(student)
        assert sidebar(student).get_by_text("No e-mail, no real name").count() == 1
        sidebar(student).get_by_label("Nickname").fill("ada")
        sidebar(student).get_by_role("button", name="Join").click()
        sidebar(student).get_by_text("You are ada in this class").wait_for(timeout=SETTLE)
        assert "student=" in student.url

        # -- draws, is answered, labels with one tap and shares
        draw_one(student)
        read = prediction(student)
        wait_until_idle(student)
        student.get_by_role("radio", name="Right", exact=True).click()
        wait_until_idle(student)
        student.get_by_text("Share this drawing with the class").click()
        wait_until_idle(student)
        assert_no_exception(student)
        screenshot(student, "class-student-label")
        work = records(data_dir)
        (saved,) = work.all_drawings()
        assert (saved.student, saved.predicted, saved.label, saved.shared) == (
            "ada",
            int(read),
            int(read),
            True,
        )

        # -- reloads: still ada, and My work holds the drawing
        student.reload()
        student.locator(CANVAS).wait_for(timeout=SETTLE)
        wait_until_idle(student)
        open_page(student, "My work")
        student.get_by_text("ada: 1 drawing saved").wait_for(timeout=SETTLE)
        student.get_by_text(f"you: {read}; read as {read} (shared)").wait_for(timeout=SETTLE)
        with student.expect_download() as download:
            student.get_by_role("button", name="Download the list of all 1 (CSV)").click()
        rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
        assert len(rows) == 1 and rows[0]["label"] == read
        assert_no_exception(student)
        screenshot(student, "my-work")

        # -- the teacher signs in to the class view
        teacher = teacher_context.new_page()
        teacher.goto(url + "/class-view")
        teacher.get_by_role("heading", name="The class").first.wait_for(timeout=SETTLE)
        wait_until_idle(teacher)
        sidebar(teacher).locator("summary").filter(has_text="For the teacher").click()
        sidebar(teacher).get_by_label("Teacher password").fill(PASSWORD)
        sidebar(teacher).get_by_role("button", name="Sign in").click()
        metric = teacher.locator("[data-testid='stMetric']").filter(has_text="Drawings saved")
        metric.wait_for(timeout=SETTLE)
        assert metric.locator("[data-testid='stMetricValue']").inner_text().strip() == "1"
        wait_until_idle(teacher)
        assert_no_exception(teacher)
        screenshot(teacher, "class-view")

        # -- pushes a test digit: the student's page follows within 2 s
        open_page(student, "Draw & predict")
        draw_one(student)  # a digit of their own to come back to
        prediction(student)
        wait_until_idle(student)
        teacher.get_by_role("button", name="Push a test digit").click()
        pushed_at = time.monotonic()
        notice = student.get_by_text("The teacher pushed this digit to everyone")
        notice.first.wait_for(timeout=10_000)
        followed = time.monotonic() - pushed_at
        assert followed <= PUSH_WITHIN_S + 1.0, f"the push took {followed:.1f} s"
        # the answer is the pushed digit's (only the answer and the notice reran)
        student.get_by_text("Input: pushed by the teacher").first.wait_for(timeout=SETTLE)
        student.get_by_role("button", name="Back to my own digit").click()
        student.get_by_text("Input: your drawing").first.wait_for(timeout=SETTLE)

        # -- runs a challenge; the student submits from the lab; the leaderboard shows ada
        open_page(student, "Adversarial lab")  # a push reaches a page without the Draw answer too
        wait_until_idle(student)
        wait_until_idle(teacher)
        teacher.get_by_role("button", name="Start the challenge").click()
        teacher.get_by_text("Running:").wait_for(timeout=SETTLE)
        notice.first.wait_for(timeout=10_000)  # the challenge's digit, pushed to everyone
        wait_until_idle(student)
        screenshot(student, "class-challenge-student")
        slider = student.get_by_role("slider", name="epsilon")
        slider.focus()
        student.keyboard.press("End")
        submit = student.get_by_role("button", name="Submit to the class challenge")
        submit.wait_for(timeout=SETTLE)
        wait_until_idle(student)
        submit.click()
        student.get_by_text("Accepted, checked by the server").wait_for(timeout=SETTLE)
        board = teacher.locator("[data-testid='stDataFrame']").filter(has_text="ada")
        board.wait_for(timeout=15_000)
        screenshot(teacher, "class-challenge")
        teacher.get_by_role("button", name="End the challenge").click()
        wait_until_idle(teacher)

        # -- exports the class's drawings
        with teacher.expect_download() as download:
            teacher.get_by_role("button", name="Export the class's drawings (CSV)").click()
        rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
        assert [r["nickname"] for r in rows] == ["ada", "ada"]  # the two drawings
        assert_no_exception(teacher)
        assert_no_exception(student)
    finally:
        student_context.close()
        teacher_context.close()


# -- one label panel, whatever the student does ------------------------------------------------

LABEL_QUESTION = "Was it right? One tap, or tap what it was"


def pen_digits_in_turn(count: int) -> list[tuple[int, list]]:
    """``count`` real pen-drawn digits (UCI pendigits, shipped with the app), one of each class
    in turn, each with a stroke count different from the one before (so that each answer is told
    from the last by the stroke count it is printed with)."""
    from bench.pen_browser import canvas_positions
    from mnist_viz.core.pendigits import load_pen_digits

    pen = load_pen_digits()
    chosen, previous = [], None
    for digit in (7, 3, 1, 0, 5, 2, 8, 4, 6, 9)[:count]:
        index = next(
            i
            for i in range(len(pen.labels))
            if pen.labels[i] == digit and len(pen.strokes[i]) != previous
        )
        previous = len(pen.strokes[index])
        chosen.append((digit, canvas_positions(pen.strokes[index])))
    return chosen


def draw_positions(page, positions: list[list[tuple[float, float]]]) -> None:
    """A recorded digit on the canvas: each stroke through its recorded positions."""
    box = page.locator(CANVAS).bounding_box()
    for stroke in positions:
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.up()


def answered(page, strokes: int) -> str:
    """The prediction once the answer for a drawing of ``strokes`` strokes is on the page; there
    is exactly one answer in view."""
    caption = f"Input: your drawing ({strokes} stroke{'s' if strokes != 1 else ''})."
    page.get_by_text(caption).first.wait_for(timeout=SETTLE)
    wait_until_idle(page)
    main = page.locator("[data-testid='stMain']")
    assert main.locator("[data-testid='stMetric']").filter(has_text="Prediction").count() == 1
    assert main.get_by_text("Input: your drawing").count() == 1
    return prediction(page)


def label_panels(page) -> int:
    return page.locator("[data-testid='stMain']").get_by_text(LABEL_QUESTION).count()


def tap_truth(page, truth: int, read: str) -> None:
    """Label truthfully with one tap: "Right", or the digit it was."""
    name = "Right" if read == str(truth) else str(truth)
    page.get_by_role("radio", name=name, exact=True).click()  # strict: one panel, one button
    wait_until_idle(page)


def test_one_label_panel_through_drawings_clear_undo_a_push_and_a_page_switch(
    browser, class_server
):
    url, data_dir = class_server
    context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    labels_given = []

    def newest_label() -> int | None:
        mine = [d for d in records(data_dir).all_drawings() if d.student == "bea"]
        return mine[0].label  # newest first

    try:
        page = context.new_page()
        page.goto(url)
        page.locator(CANVAS).wait_for(timeout=SETTLE)
        wait_until_idle(page)
        open_class_expander(page)
        sidebar(page).get_by_label("Nickname").fill("bea")
        sidebar(page).get_by_role("button", name="Join").click()
        sidebar(page).get_by_text("You are bea in this class").wait_for(timeout=SETTLE)
        clear = page.get_by_role("button", name="Clear", exact=True)
        digits = pen_digits_in_turn(6)

        def draw_and_label(step: int, truth: int, positions) -> None:
            draw_positions(page, positions)
            read = answered(page, len(positions))
            assert label_panels(page) == 1, f"drawing {step}: {label_panels(page)} label panels"
            tap_truth(page, truth, read)
            assert label_panels(page) == 1
            assert newest_label() == truth, f"drawing {step}: the tap did not land"
            labels_given.append(truth)

        # 1-2: a drawing, Clear, another
        draw_and_label(1, *digits[0])
        clear.click()
        draw_and_label(2, *digits[1])
        # 3: a stray stroke, then Undo: the answer and its panel are for what is left
        clear.click()
        truth, positions = digits[2]
        draw_positions(page, [*positions, [(30, 250), (60, 262)]])
        answered(page, len(positions) + 1)
        page.get_by_role("button", name="Undo", exact=True).click()
        read = answered(page, len(positions))
        assert label_panels(page) == 1
        tap_truth(page, truth, read)
        assert newest_label() == truth
        # a push: the pushed digit gets no panel of its own (not the student's); the one panel is
        # their own drawing's, worded as theirs, and a tap there labels it
        records(data_dir).push(_a_one(), 1, "a pushed one")
        page.get_by_text("The teacher pushed this digit to everyone").first.wait_for(timeout=10_000)
        wait_until_idle(page)
        assert label_panels(page) == 1
        main = page.locator("[data-testid='stMain']")
        assert main.get_by_text("Your own drawing, kept under the push").count() == 1
        other = (truth + 1) % 10  # a tap that changes the label, so that landing shows
        page.get_by_role("radio", name=str(other), exact=True).click()
        wait_until_idle(page)
        assert newest_label() == other, "a tap under the push did not land on the own drawing"
        page.get_by_role("button", name="Back to my own digit").click()
        read = answered(page, len(positions))
        assert label_panels(page) == 1
        tap_truth(page, truth, read)
        assert newest_label() == truth
        # 4: away to another page and back, then draw again
        open_page(page, "Inside the network")
        assert "student=" in page.url  # a page switch keeps the resume code in the address
        open_page(page, "Draw & predict")
        page.locator(CANVAS).wait_for(timeout=SETTLE)
        page.reload()  # and a reload after it keeps the student
        page.locator(CANVAS).wait_for(timeout=SETTLE)
        wait_until_idle(page)
        open_class_expander(page)
        sidebar(page).get_by_text("You are bea in this class").wait_for(timeout=SETTLE)
        clear.click()
        draw_and_label(4, *digits[3])
        # 5-6: two more, with Clear between
        for step in (5, 6):
            clear.click()
            draw_and_label(step, *digits[step - 1])
        assert_no_exception(page)
        screenshot(page, "class-one-label-panel")
        kept = [d.label for d in records(data_dir).all_drawings() if d.student == "bea"]
        assert [label for label in kept if label is not None][::-1] == [
            *labels_given[:2],
            digits[2][0],
            *labels_given[2:],
        ]
    finally:
        context.close()


def _a_one() -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 13:16] = 255
    return image


def test_the_tab_brings_the_student_back_to_an_address_that_lost_the_code(browser, class_server):
    """A page switch clears the address's parameters until the server's next run puts the
    resume code back; a page that reconnects to a new session in that moment (its replica
    restarting) has an address without the code. The tab keeps a copy (ui/components/code_keeper/code_keeper.js,
    sessionStorage) and hands it to the new session. Another tab is nobody; after Leave, the
    tab forgets it."""
    url, _ = class_server
    context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    try:
        page = context.new_page()
        page.goto(url)
        page.locator(CANVAS).wait_for(timeout=SETTLE)
        wait_until_idle(page)
        open_class_expander(page)
        sidebar(page).get_by_label("Nickname").fill("tab keeper")
        sidebar(page).get_by_role("button", name="Join").click()
        you = sidebar(page).get_by_text("You are tab keeper in this class")
        you.wait_for(timeout=SETTLE)
        wait_until_idle(page)
        page.goto(url + "/inside-the-network")  # a new session, the address without the code
        page.wait_for_url("**student=*", timeout=SETTLE)
        you.wait_for(state="attached", timeout=SETTLE)
        other = context.new_page()  # another tab of the same browser: nobody
        other.goto(url)
        other.locator(CANVAS).wait_for(timeout=SETTLE)
        wait_until_idle(other)
        other.wait_for_timeout(2000)
        assert "student=" not in other.url
        assert sidebar(other).get_by_text("You are tab keeper").count() == 0
        page.goto(url)
        page.locator(CANVAS).wait_for(timeout=SETTLE)
        wait_until_idle(page)
        open_class_expander(page)
        sidebar(page).get_by_role("button", name="Leave").click()
        sidebar(page).get_by_text("You left").wait_for(timeout=SETTLE)
        wait_until_idle(page)
        page.goto(url)  # the tab forgot the code
        page.locator(CANVAS).wait_for(timeout=SETTLE)
        wait_until_idle(page)
        page.wait_for_timeout(2000)
        assert "student=" not in page.url
        assert_no_exception(page)
    finally:
        context.close()
