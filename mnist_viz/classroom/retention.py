"""Retention on a timer: every server process deletes what its class keeps no longer (drawings,
challenge submissions, students gone with their codes) once at start and then hourly, so nothing
outlives the retention because nobody opened the class view."""

from __future__ import annotations

import logging
import threading

from mnist_viz.classroom.classwork import ClassWork
from mnist_viz.classroom.records import DEFAULT_CLASS
from mnist_viz.classroom.store import Store, StoreError

PURGE_EVERY_S = 3600.0
log = logging.getLogger(__name__)
_threads: dict[tuple[int, str], tuple[threading.Thread, threading.Event]] = {}
_lock = threading.Lock()


def purge_once(store: Store, class_id: str = DEFAULT_CLASS) -> int | None:
    """One purge; the number of drawings deleted, or None (logged) while the database is down."""
    try:
        store.ready()
        return ClassWork(store, class_id).purge()
    except StoreError as exc:
        log.warning("retention: nothing purged this time (%s)", exc)
        return None
    except Exception:  # the timer must outlive any one failure
        log.exception("retention: the purge failed")
        return None


def start_retention(
    store: Store, class_id: str = DEFAULT_CLASS, every_s: float | None = None
) -> threading.Thread:
    """The purge thread of this store and class (started once; later calls return it)."""
    every_s = PURGE_EVERY_S if every_s is None else every_s
    with _lock:
        running = _threads.get((id(store), class_id))
        if running is not None and running[0].is_alive():
            return running[0]
        stop = threading.Event()

        def run() -> None:
            while not stop.is_set():
                purge_once(store, class_id)
                stop.wait(every_s)

        thread = threading.Thread(target=run, name=f"retention-{class_id}", daemon=True)
        _threads[(id(store), class_id)] = (thread, stop)
        thread.start()
        return thread


def stop_retention(store: Store, class_id: str = DEFAULT_CLASS) -> None:
    """End the purge thread of this store and class (tests, shutdown)."""
    with _lock:
        running = _threads.pop((id(store), class_id), None)
    if running is not None:
        running[1].set()
        running[0].join(timeout=10)


def stop_every_retention() -> None:
    """End every purge thread of this process (tests: a store per test)."""
    with _lock:
        running = list(_threads.values())
        _threads.clear()
    for thread, stop in running:
        stop.set()
        thread.join(timeout=10)
