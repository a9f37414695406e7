"""Serving a class through nginx (``deploy/classroom.py``): the settings a real network needs,
each tested against real nginx and Streamlit processes."""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_classroom import nginx_or_skip

from deploy.classroom import Classroom, closed_to_others, listen_warning, nginx_config


@pytest.fixture
def empty_models(tmp_path) -> dict:
    nginx_or_skip()
    return {"MNIST_VIZ_MODELS_DIR": str(tmp_path / "models")}


def websocket_handshake(port: int, host: str, origin: str) -> int:
    """The status of a websocket upgrade through nginx with these Host and Origin headers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", "/_stcore/stream", skip_host=True)
    for name, value in {
        "Host": host,
        "Origin": origin,
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": "streamlit",
    }.items():
        connection.putheader(name, value)
    connection.endheaders()
    status = connection.getresponse().status
    connection.close()
    return status


@pytest.mark.process
def test_a_class_name_with_a_port_passes_the_origin_check_and_others_do_not(empty_models):
    """nginx passes Host with its port ($http_host, not $host): Streamlit compares a websocket's
    Origin with it. server.allowedHosts keeps other names out (DNS rebinding)."""
    with Classroom(replicas=1, env=empty_models, hosts=["class.example"]) as server:
        port = server.port
        assert (
            websocket_handshake(port, f"class.example:{port}", f"http://class.example:{port}")
            == 101
        )
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):  # nginx closes
            websocket_handshake(port, f"evil.example:{port}", f"http://evil.example:{port}")
        replica = server.replica_ports[0]  # and the replica itself refuses it too
        evil = f"evil.example:{replica}"
        assert websocket_handshake(replica, evil, f"http://{evil}") == 403
        assert websocket_handshake(port, f"class.example:{port}", "http://evil.example") == 403
        # any other name: nginx closes the connection without an answer (before any replica)
        assert plain_get(port, f"class.example:{port}") == 200
        assert plain_get(port, f"127.0.0.1:{port}") == 200
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            plain_get(port, f"evil.example:{port}")


def plain_get(port: int, host: str, path: str = "/_stcore/health") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host)
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.process
def test_every_answer_carries_the_security_headers(empty_models):
    with Classroom(replicas=1, env=empty_models) as server:
        for path in ["/", "/_stcore/health", "/app/static/push-class.json", "/_stcore/upload_file"]:
            request = urllib.request.Request(f"{server.url}{path}")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    headers = response.headers
            except urllib.error.HTTPError as error:  # an upload without a body, a missing file
                headers = error.headers
            assert headers["X-Content-Type-Options"] == "nosniff", path
            assert headers["Referrer-Policy"] == "no-referrer", path
            assert headers["Content-Security-Policy"] == "frame-ancestors 'self'", path
            assert headers["X-Frame-Options"] == "SAMEORIGIN", path
            assert "Strict-Transport-Security" not in headers, path  # only over TLS


def test_listening_beyond_this_machine_without_tls_is_warned_about():
    assert "without TLS" in listen_warning("0.0.0.0", tls=False)
    assert "without TLS" in listen_warning("192.168.1.20", tls=False)
    assert listen_warning("0.0.0.0", tls=True) is None
    assert listen_warning("127.0.0.1", tls=False) is None


@pytest.mark.process
@pytest.mark.skipif(os.geteuid() != 0, reason="nginx drops privileges only when started as root")
def test_nginx_workers_run_unprivileged(empty_models):
    with Classroom(replicas=1, env=empty_models) as server:
        users = subprocess.run(
            ["ps", "-o", "user=", "--ppid", str(server.nginx.pid)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    assert users and set(users) == {"nobody"}


@pytest.mark.process
def test_https_with_the_teachers_certificate(empty_models, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=class.example",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    with Classroom(
        replicas=1, env=empty_models, tls=(cert, key), hosts=["class.example"]
    ) as server:
        assert server.url.startswith("https://")
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False  # the certificate names class.example, we dial 127.0.0.1
        with urllib.request.urlopen(f"{server.url}/_stcore/health", context=context) as response:
            assert response.status == 200
            replica = [c for c in response.headers.get_all("Set-Cookie") or [] if "replica" in c]
            assert replica and "Secure" in replica[0]
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        for host, served in [("class.example", True), ("evil.example", False)]:
            connection = http.client.HTTPSConnection("127.0.0.1", server.port, context=context)
            try:
                connection.putrequest("GET", "/_stcore/health", skip_host=True)
                connection.putheader("Host", f"{host}:{server.port}")
                connection.endheaders()
                status = connection.getresponse().status
            except (http.client.RemoteDisconnected, ConnectionError):
                status = None  # closed without an answer
            finally:
                connection.close()
            assert status == (200 if served else None), host
        with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/_stcore/health", timeout=5)


@pytest.mark.process
def test_a_flood_of_requests_from_one_address_is_refused_and_a_class_is_not(empty_models):
    with Classroom(replicas=1, env=empty_models) as server:

        def get(_):
            try:
                with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=10) as r:
                    return r.status
            except urllib.error.HTTPError as error:
                return error.code

        with ThreadPoolExecutor(16) as pool:
            flood = list(pool.map(get, range(1500)))
        assert 429 in flood and flood.count(200) >= 400  # a whole class's page loads pass
        time.sleep(2)
        assert get(0) == 200  # and the address is served again once it slows down


def test_the_push_file_is_never_cached_whoever_serves_it():
    text = nginx_config("127.0.0.1:8501", [8502, 8503], Path("/tmp/x"))
    fallback = text.split("location @replica_static {", 1)[1].split("}", 1)[0]
    assert 'add_header Cache-Control "no-store" always' in fallback
    assert "proxy_hide_header Cache-Control" in fallback


def test_the_proxy_keeps_no_connection_open_for_a_day():
    text = nginx_config("127.0.0.1:8501", [8502, 8503], Path("/tmp/x"))
    assert "1d" not in text and "proxy_read_timeout 120s" in text
    assert "limit_conn per_address" in text and "limit_req zone=requests" in text
    assert "proxy_set_header Host $http_host" in text and "proxy_set_header Host $host;" not in text


@pytest.mark.process
def test_stopping_the_class_stops_what_its_servers_started(empty_models, tmp_path):
    """A training child runs in its server's process group; stopping the class ends it too.
    Here the "server" starts a long sleep in the background first, as a training would."""
    pid_file = tmp_path / "child.pid"
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    with Classroom(replicas=1, env=empty_models, python=str(python)):
        child = int(pid_file.read_text())
        os.kill(child, 0)  # alive while the class runs
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        # a killed child that is not yet reaped is a zombie: as good as gone
        stat = Path(f"/proc/{child}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return
        time.sleep(0.2)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the server's child outlived the class")


@pytest.mark.process
def test_nginx_serves_the_push_file_itself_and_pages_ask_more_often_behind_it(empty_models):
    # Under a folder closed to others (a private home, a mktemp -d), nginx's workers cannot read
    # the file when nginx runs as root: then a replica serves it and pages ask at the usual rate.
    from deploy.classroom import PUSH_ASK_BEHIND_NGINX_MS, ROOT, nginx_reads_static
    from mnist_viz.classroom.pushes import PUSH_ASK_MS, ask_every_ms

    by_nginx = nginx_reads_static()
    name = f"push-test-{os.getpid()}.json"
    path = ROOT / "static" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text('{"id": 7}')
    try:
        with Classroom(replicas=1, env=empty_models) as server:
            with urllib.request.urlopen(f"{server.url}/app/static/{name}", timeout=10) as r:
                assert (r.headers.get("X-Served-By") == "nginx") == by_nginx
                assert r.headers["Cache-Control"] == "no-store"
                assert json.loads(r.read()) == {"id": 7}
            for bad in ("push-../x.json", "push-a%2F..%2Fb.json", "other.json"):
                try:
                    with urllib.request.urlopen(f"{server.url}/app/static/{bad}", timeout=10) as r:
                        assert r.headers.get("X-Served-By") != "nginx"
                except urllib.error.HTTPError:
                    pass  # refused or not found: either way, not read from the folder
            env = (Path(f"/proc/{server.servers[0].pid}/environ").read_bytes()).split(b"\0")
            # behind nginx the pages ask more often; when the replicas serve the file, at the
            # usual rate (the variable unset: PUSH_ASK_MS)
            asked = [e for e in env if e.startswith(b"MNIST_VIZ_PUSH_ASK_MS=")]
            assert asked == (
                [f"MNIST_VIZ_PUSH_ASK_MS={PUSH_ASK_BEHIND_NGINX_MS}".encode()] if by_nginx else []
            )
            assert ask_every_ms({}) == PUSH_ASK_MS
            assert ask_every_ms({"MNIST_VIZ_PUSH_ASK_MS": str(PUSH_ASK_BEHIND_NGINX_MS)}) == 250
    finally:
        path.unlink()


@pytest.fixture
def open_tmp():
    """A folder that others may pass through, on a way they may pass (not pytest's 0700 one)."""
    folder = Path(tempfile.mkdtemp())
    folder.chmod(0o755)
    if closed_to_others(folder) is not None:
        pytest.skip(f"{closed_to_others(folder)} is closed to others on this machine")
    yield folder
    shutil.rmtree(folder)


def test_a_folder_closed_to_others_is_named_in_a_warning(open_tmp, monkeypatch):
    import deploy.classroom as classroom

    closed = open_tmp / "closed"
    (closed / "static").mkdir(parents=True)
    closed.chmod(0o700)
    assert classroom.closed_to_others(closed / "static") == closed
    closed.chmod(0o711)  # passing through is enough: nginx is given the file's full path
    (closed / "static").chmod(0o755)
    assert classroom.closed_to_others(closed / "static") is None
    closed.chmod(0o700)
    monkeypatch.setattr(classroom, "ROOT", closed)
    monkeypatch.setattr(classroom.os, "geteuid", lambda: 0)
    warning = classroom.static_warning()
    assert warning is not None and f"chmod o+x {closed}" in warning
    monkeypatch.setattr(classroom.os, "geteuid", lambda: 1000)  # workers run as the same user
    assert classroom.static_warning() is None


@pytest.mark.process
def test_a_label_tapped_as_the_server_is_stopped_is_kept(mnist_model_dir, tmp_path):
    """A stop (SIGTERM, as an update or a restart sends) drains first: taps sent in the same
    instant as the signal still reach the database (deploy/serve.py). Several students tap, the
    last one within a millisecond of the signal; every label is kept."""
    import asyncio

    import numpy as np

    from bench.protocol_student import ProtocolStudent
    from bench.strokes import digit_strokes
    from mnist_viz.classroom.classwork import ClassWork
    from mnist_viz.classroom.store import Store

    env = {"MNIST_VIZ_MODELS_DIR": str(mnist_model_dir), "MNIST_VIZ_DATA_DIR": str(tmp_path)}
    with Classroom(replicas=0, env=env) as server:
        store = Store(f"sqlite:///{tmp_path / 'class.sqlite3'}")
        store.migrate()
        work = ClassWork(store)
        work.ensure()
        joined = [work.join(f"tapper{i}") for i in range(4)]

        async def tap_and_stop() -> None:
            students, rng = [], np.random.default_rng(3)
            for _, token in joined:
                student = ProtocolStudent(server.url, f"student={token}")
                await student.connect()
                drawing = digit_strokes(7, rng)
                await student.draw(drawing.strokes)
                assert await student.answer(len(drawing.strokes), time.perf_counter() - 1, 60)
                students.append(student)
            for student in students:
                assert await student.label("Right")
            os.killpg(server.servers[0].pid, signal.SIGTERM)
            await asyncio.sleep(1)
            for student in students:
                await student.close()

        asyncio.run(tap_and_stop())
        assert server.servers[0].wait(timeout=30) == 0  # a clean stop
        labels = [work.student_drawings(student.id, limit=1)[0].label for student, _ in joined]
        assert None not in labels, labels


def _runtime(busy: bool):
    """A stand-in for Streamlit's runtime with one session, running a script or idle."""
    from types import SimpleNamespace

    session = SimpleNamespace(_scriptrunner=object() if busy else None, _state=None)
    manager = SimpleNamespace(list_sessions=lambda: [SimpleNamespace(session=session)])
    return SimpleNamespace(_session_mgr=manager)


def test_a_drain_ends_when_the_class_is_quiet_or_at_its_limit():
    import asyncio

    from deploy.serve import drain

    stopped = []
    waited = asyncio.run(drain(_runtime(True), lambda: stopped.append(1), 0.4, 0.1))
    assert stopped == [1] and 0.4 <= waited < 1.0  # a class that never pauses: the limit
    waited = asyncio.run(drain(_runtime(False), lambda: stopped.append(2), 5.0, 0.1))
    assert stopped == [1, 2] and waited < 0.5  # a quiet class: at once


def test_a_drain_stops_the_server_even_when_waiting_fails():
    import asyncio
    from types import SimpleNamespace

    from deploy.serve import drain

    def broken():
        raise RuntimeError("sessions changed shape")

    stopped = []
    runtime = SimpleNamespace(_session_mgr=SimpleNamespace(list_sessions=broken))
    with pytest.raises(RuntimeError):
        asyncio.run(drain(runtime, lambda: stopped.append(1), 1.0, 0.1))
    assert stopped == [1]


def test_the_drain_reads_sessions_as_this_streamlit_keeps_them():
    """deploy/serve.py reads Streamlit's private session state (1.67): if an upgrade renames
    it, every session would look idle and the drain would silently do nothing. This fails
    instead."""
    import inspect

    from streamlit.runtime.app_session import AppSession, AppSessionState
    from streamlit.runtime.runtime import Runtime
    from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

    assert "self._session_mgr" in inspect.getsource(Runtime.__init__)
    assert callable(WebsocketSessionManager.list_sessions)
    source = inspect.getsource(AppSession)
    assert "self._scriptrunner" in source and "self._state" in source
    assert AppSessionState.APP_IS_RUNNING.name == "APP_IS_RUNNING"


def test_a_second_signal_ends_the_drain_and_the_server_still_stops():
    import asyncio

    from deploy.serve import drain

    stopped = []

    async def signalled_twice() -> float:
        # a class that never pauses
        task = asyncio.ensure_future(drain(_runtime(True), lambda: stopped.append(1), 5.0, 0.1))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        task.cancel()  # what the second signal does
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - started

    assert asyncio.run(signalled_twice()) < 0.5 and stopped == [1]
