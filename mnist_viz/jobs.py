"""Training in a background thread, so it survives the browser tab (or session) that started it.

A page starts a job, or attaches to the one already running for the same model cache, and polls
its progress. If the user closes the tab, training goes on; the next visit finds it running or done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from mnist_viz.training import ProgressFn, TrainingProgress

JobFn = Callable[[ProgressFn, Callable[[], None]], Any]


class TrainingJob:
    """One run of ``fn(report_progress, report_waiting)`` in a daemon thread."""

    def __init__(self, fn: JobFn):
        self._fn = fn
        self._done = threading.Event()
        self.progress: TrainingProgress | None = None
        self.waiting = False  # another process holds the cache's lock
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="mnist-viz-training", daemon=True)

    def start(self) -> TrainingJob:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.result = self._fn(self._report, self._wait)
        except BaseException as exc:  # handed to whoever polls the job
            self.error = exc
        finally:
            self._done.set()

    def _report(self, progress: TrainingProgress) -> None:
        self.waiting = False
        self.progress = progress

    def _wait(self) -> None:
        self.waiting = True

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to ``timeout`` seconds; True once the job has finished."""
        return self._done.wait(timeout)


class JobRegistry:
    """At most one running job per key (a model cache's folder and name), shared by all sessions."""

    def __init__(self):
        self._lock = threading.Lock()
        self._jobs: dict[str, TrainingJob] = {}

    def get_or_start(self, key: str, fn: JobFn) -> TrainingJob:
        """The running job for ``key``, or a new one running ``fn``."""
        with self._lock:
            job = self._jobs.get(key)
            if job is None or job.done:
                job = self._jobs[key] = TrainingJob(fn).start()
            return job

    def running(self, key: str) -> TrainingJob | None:
        with self._lock:
            job = self._jobs.get(key)
            return job if job is not None and not job.done else None
