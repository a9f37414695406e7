"""A class of protocol students drawing through nginx to two replicas while faults strike: a
teacher's training killed while it saves, a save onto a full disk, and a replica killed with
SIGKILL. Nothing is lost on a live replica, the served model stays a consistent pair, and the
killed replica's students reconnect to the other one and draw on (``bench/faults.py``)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import tiny_mnist, write_idx_folder
from core.test_cache_faults import can_mount_tmpfs
from test_classroom import nginx_or_skip

from mnist_viz.core.cache import FAULT_ENV_VAR, STANDARD_MODEL, ModelCache
from mnist_viz.core.worker import STANDARD, TrainingError, TrainSpec, run_training

pytestmark = pytest.mark.browser  # nginx, like the other classroom tests


def established(port: int) -> int:
    """How many established TCP connections this machine has to local ``port``."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


@pytest.fixture
def small_models_disk(tmp_path, mnist_model_dir):
    """The served model on a tmpfs with about 4 MB to spare: too little for another save."""
    nginx_or_skip()
    if not can_mount_tmpfs():
        if os.environ.get("MNIST_VIZ_REQUIRE_FAULTS") == "1":
            pytest.fail("a tmpfs is required here")
        pytest.skip("cannot mount a tmpfs here")
    used = sum(p.stat().st_size for p in mnist_model_dir.iterdir() if p.is_file())
    mount = tmp_path / "models"
    mount.mkdir()
    size_kb = used // 1024 + 4096
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mount)], check=True
    )
    try:
        for path in mnist_model_dir.iterdir():
            if path.is_file():
                shutil.copy(path, mount / path.name)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_class_keeps_drawing_through_faults(
    small_models_disk, official_mnist_path, tmp_path, monkeypatch
):
    from bench.faults import class_under_faults
    from deploy.classroom import Classroom

    models = small_models_disk
    served = ModelCache(models).read_info().model_sha256
    # trainings in these faults learn from a tiny MNIST; the servers read the real one
    monkeypatch.setenv("MNIST_DATA", str(write_idx_folder(tmp_path / "mnist", tiny_mnist())))
    spec = TrainSpec(str(models), STANDARD_MODEL, STANDARD, {"epochs": 1, "batch_size": 64})
    env = {"MNIST_VIZ_MODELS_DIR": str(models), "MNIST_DATA": str(official_mnist_path)}

    with Classroom(replicas=2, env=env) as server:

        def killed_while_saving() -> str:
            os.environ[FAULT_ENV_VAR] = "save:model-renamed"
            try:
                run_training(spec)
                return "the trainer was not killed"
            except TrainingError as exc:
                return str(exc)
            finally:
                del os.environ[FAULT_ENV_VAR]

        def disk_full() -> str:
            try:
                run_training(spec)
                return "saved on a full disk?"
            except Exception as exc:
                return str(exc)

        def kill_busiest_replica() -> str:
            loads = [established(port) for port in server.replica_ports]
            victim = server.servers[loads.index(max(loads))]
            os.kill(victim.pid, signal.SIGKILL)
            return f"killed the replica holding {max(loads)} of {sum(loads)} connections"

        report = class_under_faults(
            server.url,
            students=8,
            seconds=40,
            schedule=[
                (3, "trainer killed while saving", killed_while_saving),
                (12, "full disk", disk_full),
                (22, "replica killed", kill_busiest_replica),
            ],
        )
    print(report)
    assert len(report.faults) == 3
    assert "was killed (SIGKILL)" in report.faults[0]
    assert "No space left on device" in report.faults[1]
    assert report.missing_on_live == []
    assert report.reconnects  # the killed replica held some of the class, who came back
    assert max(report.reconnects) < 30
    assert report.answered >= report.drawings - report.lost_to_killed_replica > 40
    assert ModelCache(models).load().info.model_sha256 == served  # consistent, and kept


def test_a_student_page_on_a_killed_replica_says_so_and_comes_back(
    mnist_model_dir, official_mnist_path, tmp_path
):
    """A real Chromium student: when its replica dies, the page reconnects through nginx to the
    other replica in a new session, says that it started over, and reads the next drawing."""
    nginx_or_skip()
    from conftest import chromium_or_skip
    from playwright.sync_api import sync_playwright
    from test_browser import CANVAS, prediction, stroke

    from deploy.browser import launch
    from deploy.classroom import Classroom

    env = {"MNIST_VIZ_MODELS_DIR": str(mnist_model_dir), "MNIST_DATA": str(official_mnist_path)}
    with Classroom(replicas=2, env=env) as server, sync_playwright() as p:
        browser = launch(p, chromium_or_skip())
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(server.url)
        page.locator(CANVAS).wait_for(timeout=120_000)
        stroke(page, [(140, 40), (138, 240)])
        assert prediction(page) == "1"
        loads = [established(port) for port in server.replica_ports]
        victim = server.servers[loads.index(max(loads))]  # the page's own replica
        os.kill(victim.pid, signal.SIGKILL)
        # the page reconnects to the other replica, in a new session, and says it started over
        page.get_by_text("This page started over").first.wait_for(timeout=60_000)
        page.screenshot(path=str(tmp_path / "started-over.png"))
        page.locator(CANVAS).wait_for(timeout=60_000)
        page.get_by_role("button", name="Clear", exact=True).click()
        page.get_by_text("Draw a digit").first.wait_for(timeout=60_000)
        stroke(page, [(140, 40), (138, 240)])
        assert prediction(page) == "1"
        browser.close()
