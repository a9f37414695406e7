"""Background work shared by every session: one job per key, run one at a time, in order.

A page submits a job, or joins the one already queued or running under the same key, and polls
its progress; the work goes on if the tab closes. A queue runs its jobs on one worker thread, so
two heavy jobs never fight over the CPU: later ones wait, and their pages show their place in the
queue. However many sessions ask for the same result, it is computed once.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
MAX_HISTORY = 10_000  # reports kept per job: a training reports about 100 per epoch

# fn(report_progress, report_waiting) -> result
JobFn = Callable[[Callable[[Any], None], Callable[[], None]], Any]

_QUEUES: weakref.WeakSet[JobQueue] = weakref.WeakSet()  # every queue alive in this process


class Job:
    """One piece of work: its state, its latest progress report, and then its result or error."""

    def __init__(self, key: str, fn: JobFn, title: str = ""):
        self.key, self.title = key, title
        self._fn = fn
        self._done = threading.Event()
        self.status = QUEUED
        self.progress: Any = None  # whatever the job last reported (a fraction, TrainingProgress)
        self.history: list[Any] = []  # every report, oldest first (a training's live curves)
        self.waiting = False  # another process holds what the job needs (the model cache lock)
        self.result: Any = None
        self.error: BaseException | None = None

    def _run(self) -> None:
        self.status = RUNNING
        try:
            self.result = self._fn(self._report, self._wait)
            self.status = DONE
        except BaseException as exc:  # handed to whoever polls the job
            self.error = exc
            self.status = FAILED
        finally:
            self._done.set()

    def _report(self, progress: Any) -> None:
        self.waiting = False
        self.progress = progress
        if len(self.history) < MAX_HISTORY:
            self.history.append(progress)

    def _wait(self) -> None:
        self.waiting = True

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to ``timeout`` seconds; True once the job has finished (or failed)."""
        return self._done.wait(timeout)


class JobQueue:
    """Jobs run one at a time in the order submitted, on one daemon thread started on demand."""

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Condition()
        self._pending: deque[Job] = deque()
        self._active: dict[str, Job] = {}  # queued or running, by key
        self._running: Job | None = None
        self._worker: threading.Thread | None = None
        _QUEUES.add(self)

    def submit(self, key: str, fn: JobFn, title: str = "") -> Job:
        """The job queued or running under ``key``, or a new one running ``fn`` after the rest."""
        with self._lock:
            job = self._active.get(key)
            if job is not None:
                return job
            job = self._active[key] = Job(key, fn, title)
            self._pending.append(job)
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name=f"mnist-viz-{self.name}", daemon=True
                )
                self._worker.start()
            self._lock.notify_all()  # the worker, and not only a wait_idle
            return job

    def get(self, key: str) -> Job | None:
        """The job queued or running under ``key``, if any."""
        with self._lock:
            return self._active.get(key)

    def position(self, job: Job) -> int:
        """How many jobs run before ``job``: 0 once it runs (or has finished)."""
        with self._lock:
            if job not in self._pending:
                return 0
            return self._pending.index(job) + (self._running is not None)

    @property
    def running(self) -> Job | None:
        with self._lock:
            return self._running

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running (up to ``timeout`` seconds); True if idle."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._active:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._lock.wait(left)
            return True

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._pending:
                    self._lock.wait()
                job = self._running = self._pending.popleft()
            try:
                job._run()
            finally:
                with self._lock:
                    self._running = None
                    self._active.pop(job.key, None)
                    self._lock.notify_all()  # wakes wait_idle


def wait_for_every_queue(timeout: float) -> bool:
    """Block until every queue in this process is idle; True if they all were within ``timeout``.

    For tests and shutdown: a job still running when its session's caches are emptied would go on
    using TensorFlow while the next test loads, trains and frees models."""
    deadline = time.monotonic() + timeout
    return all(q.wait_idle(max(0.0, deadline - time.monotonic())) for q in list(_QUEUES))


class SharedResults:
    """Heavy results computed once per key, however many sessions ask at the same moment.

    The first request queues the work on ``queue``; requests that arrive while it is queued or
    running join that same job; afterwards everyone gets the stored value at once. A value is
    stored by the job itself, so it is kept even if every session that asked has gone.
    """

    def __init__(self, queue: JobQueue):
        self.queue = queue
        self._values: dict = {}

    def get(self, key, default=None):
        """The stored result for ``key``, or ``default`` if it has not been computed."""
        return self._values.get(key, default)

    def __contains__(self, key) -> bool:
        return key in self._values

    def request(self, key, compute: Callable[[Callable[[Any], None]], Any], title: str = "") -> Job:
        """The job computing ``key`` with ``compute(report_progress)`` (new, queued or running)."""

        def run(report, waiting):
            self._values[key] = compute(report)
            return self._values[key]

        return self.queue.submit(repr(key), run, title)
