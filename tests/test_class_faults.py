"""The class's pages when its database fails (AppTest): the data folder on a full disk (a real,
small tmpfs), and a PostgreSQL server that stops and comes back. Every path a student or the
teacher takes says what could not be done, in a sentence, instead of an error box; what was
saved stays saved; saving resumes when the fault ends."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from conftest import (
    app_test,
    canvas_drawing,
    canvas_state,
    sign_in_as_teacher,
    tiny_mnist,
    write_idx_folder,
)

from mnist_viz.classroom import breaker
from mnist_viz.classroom.classwork import ClassWork
from mnist_viz.classroom.store import DATABASE_URL_ENV_VAR, Store
from mnist_viz.inputs.digit import from_push
from ui.digit import DIGIT_KEY

# a tmpfs mounted for a full disk, and a PostgreSQL cluster stopped under the app
pytestmark = [pytest.mark.usefixtures("fresh_streamlit_caches"), pytest.mark.process]


@pytest.fixture
def app(tiny_models_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tiny_models_dir))
    monkeypatch.setenv("MNIST_DATA", str(write_idx_folder(tmp_path / "mnist", tiny_mnist())))
    return app_test


class SmallDisk:
    """A 4 MiB tmpfs: ``fill`` takes every free byte, ``free`` gives them back."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.ballast = folder / "ballast"

    def fill(self) -> None:
        with open(self.ballast, "ab", buffering=0) as f:  # unbuffered: close has nothing to flush
            for chunk in (1 << 16, 1 << 12, 1):
                try:
                    while True:
                        f.write(b"\0" * chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
        assert shutil.disk_usage(self.folder).free < 4096

    def free(self) -> None:
        self.ballast.unlink(missing_ok=True)


@pytest.fixture
def small_disk(monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    folder = Path(tempfile.mkdtemp(prefix="mnist-viz-full-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], check=True)
    monkeypatch.setenv("MNIST_VIZ_DATA_DIR", str(folder / "data"))
    try:
        yield SmallDisk(folder)
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def button(at, label: str):
    return next(b for b in at.button if b.label.startswith(label))


def warnings(at) -> str:
    return " ".join(w.value for w in at.warning) + " " + " ".join(e.value for e in at.error)


def texts(at) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def records() -> ClassWork:
    store = Store()
    store.migrate()
    return ClassWork(store)


def draw(at, digit: str = "1", width: int = 18):
    at.session_state["canvas"] = canvas_state(canvas_drawing(digit, width=width))
    return at.run()


def clear(at):
    return draw(at, "1", width=0)


def joined_with_a_drawing(app):
    at = app().run()
    at.text_input(key="class_nickname").input("ada")
    at = button(at, "Join").click().run()
    at = draw(at, "1")
    at.pills(key="class_label").set_value("7").run()
    assert not at.exception
    return at


def test_a_full_disk_shows_sentences_and_keeps_everything(app, small_disk, teacher_password):
    at = joined_with_a_drawing(app)
    token = at.query_params["student"]
    (before,) = records().all_drawings()
    small_disk.fill()

    at.pills(key="class_label").set_value("1").run()  # a label tap
    assert not at.exception and "Your label was not saved" in warnings(at)
    assert at.pills(key="class_label").value is None  # shows what is saved: nothing new
    at.toggle(key="class_share").set_value(True).run()  # sharing
    assert not at.exception and "Sharing was not saved" in warnings(at)
    at = draw(clear(at), "0")  # a new drawing
    assert not at.exception and "could not be saved" in warnings(at)
    assert "Prediction" in [m.label for m in at.metric]  # the answer is still there

    again = app()  # a reload with the code in the address: still the student
    again.query_params["student"] = token
    again.run()
    assert not again.exception and "You are **ada**" in texts(again)
    again.switch_page("pages/my_work.py").run()
    assert not again.exception and "**ada**: 1 drawing saved" in texts(again)

    teacher = app().run()  # the teacher signs in (the ledger cannot be written) and opens the view
    teacher.switch_page("pages/class_view.py").run()
    teacher = sign_in_as_teacher(teacher)
    assert not teacher.exception and "Students active" in [m.label for m in teacher.metric]

    newcomer = app().run()  # a join cannot be written: it says so
    newcomer.text_input(key="class_nickname").input("bob")
    newcomer = button(newcomer, "Join").click().run()
    assert not newcomer.exception and "full" in warnings(newcomer)

    (after,) = records().all_drawings()  # nothing lost
    assert (after.id, after.label, (after.image == before.image).all()) == (before.id, 7, True)

    small_disk.free()  # saving resumes
    at = draw(clear(at), "0")
    assert not at.exception and len(records().all_drawings()) == 2
    at.pills(key="class_label").set_value("0").run()
    assert {d.label for d in records().all_drawings()} == {7, 0}


@pytest.fixture
def own_postgres(monkeypatch):
    """A PostgreSQL server this test may stop and start."""
    from deploy.postgres import LocalPostgres, binaries

    if binaries() is None:
        if os.environ.get("MNIST_VIZ_REQUIRE_DATABASE") == "1":
            pytest.fail("PostgreSQL (initdb, pg_ctl) is required here but missing")
        pytest.skip("PostgreSQL is not installed")
    root = Path(tempfile.mkdtemp(prefix="mnist-viz-stopped-"))
    server = LocalPostgres(root, port=30000 + os.getpid() % 10000).start()
    monkeypatch.setenv(DATABASE_URL_ENV_VAR, server.url)
    monkeypatch.setattr(breaker, "RETRY_S", 1.0)  # the production 10 s, shortened
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def test_a_stopped_database_shows_sentences_and_the_class_comes_back(app, own_postgres):
    at = joined_with_a_drawing(app)
    token = at.query_params["student"]
    own_postgres.stop("immediate")

    at.pills(key="class_label").set_value("1").run()
    assert not at.exception
    at = draw(clear(at), "0")
    assert not at.exception and "Prediction" in [m.label for m in at.metric]
    again = app()
    again.query_params["student"] = token
    again.run()
    assert not again.exception and "Your code is still in this page's address" in warnings(again)
    again.switch_page("pages/my_work.py").run()
    assert not again.exception

    own_postgres.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the class comes back by itself
        time.sleep(1.1)
        again.run()
        with contextlib.suppress(StopIteration):
            if "You are **ada**" in texts(again):
                break
    assert "You are **ada**" in texts(again) and "**ada**: 1 drawing saved" in texts(again)


def test_a_full_disk_during_a_challenge_submission_and_a_deletion(
    app, small_disk, teacher_password
):
    teacher = app().run()
    teacher.switch_page("pages/class_view.py").run()
    teacher = sign_in_as_teacher(teacher)
    teacher = button(teacher, "Start the challenge").click().run()
    challenge = records().active_challenge()
    student = app().run()
    student.text_input(key="class_nickname").input("ada")
    student = button(student, "Join").click().run()
    student.session_state[DIGIT_KEY] = from_push(challenge.image, challenge.label, "challenge")
    student.switch_page("pages/adversarial.py").run()
    student.session_state["lab_sweep"] = {"epsilon": 0.5}  # large enough to fool a tiny network
    student.run()
    small_disk.fill()

    button(student, "Submit to the class challenge").click().run()  # cannot be written
    assert not student.exception
    shown = warnings(student) + texts(student)
    assert "not available right now" in shown or "Not accepted" in shown
    assert records().leaderboard(challenge.id) == []

    teacher.text_input(key="delete_confirm").input("delete the class").run()
    button(teacher, "Delete the class and everything in it").click().run()  # cannot be written
    assert not teacher.exception and "not available right now" in warnings(teacher)
    assert [s.nickname for s in records().students()] == ["ada"]  # nothing half-deleted

    small_disk.free()
    button(teacher, "Delete the class and everything in it").click().run()
    assert records().students() == []
