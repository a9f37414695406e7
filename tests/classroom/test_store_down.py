"""A class database that hangs, refuses or comes back: callers fail fast and the store recovers by
itself. The hung server is a real socket that accepts connections and never answers (as a hung
PostgreSQL or a partitioned network does); the one that comes back is a real PostgreSQL started
on the same socket."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from mnist_viz.classroom.classwork import ClassWork
from mnist_viz.classroom.store import (
    CONNECT_TIMEOUT_S,
    LENT_DEADLINE_S,
    QUICK_DEADLINE_S,
    Store,
    StoreError,
)

FAST_S = 0.05  # what a page run may pay for the class while the database is down


class HungServer:
    """Accepts connections on a PostgreSQL socket path and never says a word."""

    def __init__(self, path: Path):
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(64)
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.listener.close()
        for conn in self.accepted:
            conn.close()
        self.path.unlink(missing_ok=True)


@pytest.fixture
def socket_folder():
    folder = Path(tempfile.mkdtemp(prefix="mnist-viz-hung-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _timed(call) -> tuple[float, Exception | None]:
    start = time.perf_counter()
    try:
        call()
    except StoreError as exc:
        return time.perf_counter() - start, exc
    return time.perf_counter() - start, None


def _url(folder: Path, port: int) -> str:
    return f"postgresql://{getpass.getuser()}@/mnistviz?host={folder}&port={port}"


def test_a_hung_server_costs_one_connect_timeout_then_nothing(socket_folder) -> None:
    port = 40000 + os.getpid() % 10000
    hung = HungServer(socket_folder / f".s.PGSQL.{port}")
    store = Store(_url(socket_folder, port))
    try:
        took, error = _timed(store.ready)
        assert error is not None and took <= CONNECT_TIMEOUT_S + 1.0
        # every later call (a page run's sidebar, a label tap, the push mirror) is refused at once
        work = ClassWork(store)
        for call in (store.ready, work.ensure, work.current_push_id, lambda: work.resume("x" * 16)):
            took, error = _timed(call)
            assert error is not None and took <= FAST_S, (call, took)
            assert "tries again in" in str(error)
        assert len(hung.accepted) == 1  # one connection tried, not one per call
    finally:
        hung.close()
        store.close()


def test_a_refusing_server_is_not_asked_again_until_the_retry(socket_folder) -> None:
    store = Store(_url(socket_folder, 1))  # no socket there: refused at once
    took, error = _timed(store.ready)
    assert error is not None and store.breaker.is_open
    took, error = _timed(store.ready)
    assert error is not None and took <= FAST_S


def test_the_class_works_again_when_the_server_comes_back(socket_folder) -> None:
    from deploy.postgres import LocalPostgres, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL is not installed")
    server = LocalPostgres(socket_folder)
    hung = hung_server_on(server)
    store = Store(server.url)
    store.breaker.retry_s = 1.0  # the production 10 s, shortened for the test
    try:
        assert _timed(store.ready)[1] is not None
        hung.close()
        server.start()
        recovered = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            took, error = _timed(store.ready)
            assert took <= CONNECT_TIMEOUT_S + 1.0
            if error is None:
                recovered = time.monotonic()
                break
            time.sleep(0.1)
        assert recovered is not None, "the store never came back"
        work = ClassWork(store)
        work.ensure()
        student, _ = work.join("back")
        assert work.student_drawings(student.id) == []
        assert not store.breaker.is_open
    finally:
        store.close()
        server.stop("immediate")


def hung_server_on(server) -> HungServer:
    """A hung server on the socket ``server`` will use once it starts."""
    server.sockets.mkdir(parents=True, exist_ok=True)
    if server.run_as:
        shutil.chown(server.root, server.user)
        shutil.chown(server.sockets, server.user)
    return HungServer(server.sockets / f".s.PGSQL.{server.port}")


def _server_processes(server) -> list[int]:
    postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(
        ["pgrep", "-P", str(postmaster)], capture_output=True, text=True
    ).stdout.split()
    return [postmaster, *map(int, children)]


def test_a_server_that_stops_answering_mid_connection_costs_one_deadline(socket_folder) -> None:
    """Every PostgreSQL process stopped (SIGSTOP): the kernel keeps the sockets open, so neither
    the statement timeout nor TCP's can act; the store cuts the lent connection at its deadline,
    the breaker opens, and the class comes back when the server does."""
    from deploy.postgres import LocalPostgres, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL is not installed")
    server = LocalPostgres(socket_folder).start()
    store = Store(server.url)
    store.breaker.retry_s = 1.0  # the production 10 s, shortened for the test
    stopped: list[int] = []
    try:
        work = ClassWork(store)
        store.ready()
        work.ensure()  # a pooled connection, with its server process
        stopped = _server_processes(server)
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        took, error = _timed(work.current_push_id)
        assert error is not None and took <= LENT_DEADLINE_S + 1.0, took
        took, error = _timed(work.current_push_id)  # the next caller: at once
        assert error is not None and took <= FAST_S, took
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        stopped = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if _timed(work.current_push_id)[1] is None:
                break
            time.sleep(0.1)
        assert _timed(work.current_push_id)[1] is None, "the store never came back"
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        store.close()
        server.stop("immediate")


def test_callers_that_find_the_schema_being_prepared_wait_for_it(tmp_path, monkeypatch) -> None:
    """A restarted replica's pages all reconnect at once: the first migrates, the others wait
    for it instead of being refused (a refused first run could not find its student)."""
    store = Store(f"sqlite:///{tmp_path / 'class.sqlite3'}")
    migrate = store.migrate

    def slow_migrate() -> int:
        time.sleep(0.5)
        return migrate()

    monkeypatch.setattr(store, "migrate", slow_migrate)
    errors: list[Exception] = []

    def ready() -> None:
        try:
            store.ready()
        except StoreError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ready) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and store.version() > 0


def test_the_mirrors_quick_read_cuts_a_pages_hung_read_short(socket_folder) -> None:
    """The push mirror reads one row ten times a second with a 1 s deadline: when the server
    hangs, its read is cut first, and every connection lent for long is cut with it, so a
    page's read on another connection fails within about a second, not after its own 6 s."""
    from deploy.postgres import LocalPostgres, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL is not installed")
    server = LocalPostgres(socket_folder).start()
    store = Store(server.url)
    stopped: list[int] = []
    done = threading.Event()
    try:
        work = ClassWork(store)
        store.ready()
        work.ensure()
        barrier = threading.Barrier(2)

        def hold() -> None:  # two connections in the pool, as a busy class has
            with store.transaction():
                store.execute("SELECT 1")
                barrier.wait(timeout=10)

        holders = [threading.Thread(target=hold) for _ in range(2)]
        for thread in holders:
            thread.start()
        for thread in holders:
            thread.join()
        stopped = _server_processes(server)
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)

        def mirror() -> None:
            while not done.is_set():
                _timed(work.current_push_id)
                time.sleep(0.1)

        threading.Thread(target=mirror, daemon=True).start()
        took, error = _timed(lambda: work.resume("x" * 16))
        assert error is not None and took <= QUICK_DEADLINE_S + 1.0, took
    finally:
        done.set()
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        store.close()
        server.stop("immediate")


def test_a_statement_cancelled_by_its_timeout_does_not_open_the_breaker(socket_folder) -> None:
    """A slow statement cancelled by the server's statement timeout came from a server that
    runs: the caller gets a sentence, and the class stays up for everyone else."""
    from deploy.postgres import LocalPostgres, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL is not installed")
    server = LocalPostgres(socket_folder).start()
    store = Store(server.url)
    try:
        store.ready()
        took, error = _timed(lambda: store.execute("SELECT pg_sleep(30)"))
        assert error is not None and took < LENT_DEADLINE_S, took
        assert not store.breaker.is_open
        assert store.one("SELECT 1") == (1,)
    finally:
        store.close()
        server.stop("immediate")


def test_cutting_a_connection_that_is_already_gone_is_harmless() -> None:
    from mnist_viz.classroom.store import _sever

    class Gone:
        def fileno(self):
            raise RuntimeError("the connection is closed")

    _sever(Gone())  # no exception: the watchdog lives on
