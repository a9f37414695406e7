"""Following the teacher's pushes: a mirror of the latest push id in a static file that every
student's page asks for (``push.js``: four times a second behind nginx, which serves the file
itself, twice a second from a single server), and the switch to the pushed digit.

Why not ``st.fragment(run_every=...)``: that costs a script run per student and second, and in
Streamlit 1.67 its timer stops after the Draw page's keyed fragment reruns (a stroke), so a
student who had drawn never saw a push. A static file costs the server a file read, and the
server only runs the student's script when there is something new.

Each server process keeps its own copy of the file up to date from the class's database (so
replicas on several machines agree), checking every 0.1 s.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import streamlit as st

from mnist_viz.classroom.classwork import ClassWork
from mnist_viz.classroom.pushes import ask_every_ms
from mnist_viz.classroom.store import Store, StoreError

STATIC = Path(__file__).resolve().parents[3] / "static"  # served at /app/static/
MIRROR_EVERY_S = 0.1  # one single-row SELECT: cheap
# A page hears of a push within 0.6 s (mirror + ask), or 0.35 s behind nginx, which serves the
# file itself and lets pages ask four times a second; the rest of the second is for 30 pages'
# answers to be computed on one core.


_follower = st.components.v2.component(
    "mnist_viz.push_follower",
    html=(
        '<span class="push-follower" aria-hidden="true"></span>'
        '<p class="push-stalled" role="status" style="margin:0;font-size:0.875rem"></p>'
    ),
    js=(Path(__file__).with_name("push.js")).read_text(encoding="utf-8"),
)


def push_file(class_id: str) -> Path:
    return STATIC / f"push-{class_id}.json"


def _write_id(path: Path, push_id: int) -> None:
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"id": push_id}), encoding="utf-8")
    temporary.chmod(0o644)  # nginx's workers read it, whatever the server's umask
    os.replace(temporary, path)  # readers see the old file or the new one, never half of one


log = logging.getLogger(__name__)


def _log_failure(class_id: str, exc: Exception, failing: bool) -> bool:
    """Log the first failure of a run of them (not one line every 0.1 s); True."""
    if not failing:
        log.warning("push mirror of class %r: cannot update the push file (%s)", class_id, exc)
    return True


_current: dict[str, object] = {}  # class id -> the token of its one live mirror thread


def _mirror(store: Store, class_id: str, token: object) -> None:
    path, written, failing = push_file(class_id), None, False
    while _current.get(class_id) is token:  # a newer mirror (a new database) replaces this one
        try:
            push_id = ClassWork(store, class_id).current_push_id()
            if push_id != written or not path.is_file():
                path.parent.mkdir(exist_ok=True)  # a full or read-only disk: logged, retried
                _write_id(path, push_id)
                written = push_id
        except (StoreError, OSError) as exc:  # back in a moment; pages keep their digit
            failing = _log_failure(class_id, exc, failing)
        else:
            if failing:
                log.warning("push mirror of class %r: working again", class_id)
            failing = False
        time.sleep(MIRROR_EVERY_S)


@st.cache_resource(show_spinner=False)
def start_mirror(_store: Store, database: str, class_id: str) -> threading.Thread:
    """One mirror thread per server process and class, of the class's ``database`` (its URL:
    another database, as in tests, starts a mirror that replaces the one before)."""
    token = _current[class_id] = object()
    thread = threading.Thread(
        target=_mirror, args=(_store, class_id, token), name=f"push-mirror-{class_id}", daemon=True
    )
    thread.start()
    return thread


FOLLOWER = "push_follower"  # the follower's key: its state holds the latest push id it saw


def follow_pushes(class_id: str, seen: int, on_push) -> None:
    """Ask for the latest push id every ``ask_every_ms()``; ``on_push`` runs when it is newer than
    ``seen`` (the push this page last followed)."""
    _follower(
        key=FOLLOWER,
        data={
            "url": f"./app/static/{push_file(class_id).name}",
            "seen": seen,
            "every_ms": ask_every_ms(),
        },
        on_push_change=on_push,
        width="content",
        height="content",
    )
