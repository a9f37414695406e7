"""The push mirror (ui/components/push/__init__.py) while the class's database is down: it logs the failure once
(not ten lines a second), says when it works again, and writes the push id once it can. The
mirror runs as a thread of this test process."""

from __future__ import annotations

import json
import logging
import threading
import time

from mnist_viz.classroom import breaker
from mnist_viz.classroom.store import DATABASE_URL_ENV_VAR, Store


def test_the_mirror_logs_a_failure_once_and_its_recovery(tmp_path, monkeypatch, caplog):
    from ui.components import push as _push

    monkeypatch.setattr(_push, "STATIC", tmp_path)
    monkeypatch.setattr(breaker, "RETRY_S", 0.2)  # the production 10 s, shortened
    monkeypatch.setenv(DATABASE_URL_ENV_VAR, "postgresql://nobody@127.0.0.1:1/none")
    down = Store()
    caplog.set_level(logging.WARNING, logger=_push.__name__)
    _push.start_mirror(down, "down", "lesson")
    time.sleep(1.5)  # 15 rounds of the mirror
    failures = [r for r in caplog.records if "cannot update the push file" in r.message]
    assert len(failures) == 1 and "lesson" in failures[0].message
    _push._current.pop("lesson", None)  # ends the mirror
    _push.start_mirror.clear()


def test_the_mirror_says_when_it_works_again(tmp_path, monkeypatch, caplog):
    from ui.components import push as _push

    # its parent is not a folder yet: OSError (the mirror makes static/ itself, not its parents)
    monkeypatch.setattr(_push, "STATIC", tmp_path / "missing" / "static")
    monkeypatch.setenv("MNIST_VIZ_DATA_DIR", str(tmp_path / "data"))
    store = Store()
    store.migrate()
    caplog.set_level(logging.WARNING, logger=_push.__name__)
    token = _push._current["again"] = object()
    thread = threading.Thread(target=_push._mirror, args=(store, "again", token), daemon=True)
    thread.start()
    time.sleep(0.5)
    (tmp_path / "missing").mkdir()
    deadline = time.monotonic() + 10
    while not _push.push_file("again").is_file() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert json.loads(_push.push_file("again").read_text())["id"] == 0
    _push._current.pop("again", None)
    thread.join(timeout=5)
    messages = [r.message for r in caplog.records]
    assert sum("cannot update the push file" in m for m in messages) == 1
    assert any("working again" in m for m in messages)


def test_clearing_streamlits_cache_leaves_one_store(tmp_path, monkeypatch):
    """Any browser can ask Streamlit to clear its resource cache: the class's store is not in it,
    so no clearing leaves a store, its threads and its connections behind."""
    import streamlit as st

    from ui import class_session as _class

    monkeypatch.setenv("MNIST_VIZ_DATA_DIR", str(tmp_path / "data"))
    first = _class._open_store()
    st.cache_resource.clear()
    assert _class._open_store() is first
    monkeypatch.setenv("MNIST_VIZ_DATA_DIR", str(tmp_path / "other"))
    assert _class._open_store() is not first  # another database, another store


def test_the_mirror_starts_when_the_server_first_opens_the_database(tmp_path, monkeypatch):
    """Not from a page's sidebar: the first run that opens the class's database (any page, the
    router's own model choice included) starts the one mirror of the process."""
    from mnist_viz.classroom.records import DEFAULT_CLASS
    from ui import class_session as _class
    from ui.components import push as _push

    monkeypatch.setenv("MNIST_VIZ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(_push, "STATIC", tmp_path / "static")
    name = f"push-mirror-{DEFAULT_CLASS}"
    _push._current.pop(DEFAULT_CLASS, None)  # a mirror an earlier test's app started ends
    for thread in threading.enumerate():
        if thread.name == name:
            thread.join(5)
    _push.start_mirror.clear()
    _class._store()
    mirrors = [t for t in threading.enumerate() if t.name == name]
    assert len(mirrors) == 1 and mirrors[0].is_alive()
    _class._store()  # again: still one
    assert [t.name for t in threading.enumerate()].count(name) == 1
    deadline = time.monotonic() + 5
    while not _push.push_file(DEFAULT_CLASS).is_file() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert json.loads(_push.push_file(DEFAULT_CLASS).read_text())["id"] == 0
    _push._current.pop(DEFAULT_CLASS, None)  # ends the mirror
    _push.start_mirror.clear()
