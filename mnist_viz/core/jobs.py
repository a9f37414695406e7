"""Background work shared by every session: one job per key, run one at a time, in order.

A page submits a job, or joins the one already queued or running under the same key, and polls
its progress; shared work goes on if the tab closes. A queue runs its jobs on one worker thread, so
two heavy jobs never fight over the CPU: later ones wait, and their pages show their place in the
queue. However many sessions ask for the same result, it is computed once.

Private jobs (one session's, such as teaching its own copy of a network) are held to account:
- shared results (``SHARED``) run before every private job (``PRIVATE``) queued;
- a session (an ``owner``) has at most one private job queued or running at a time;
- a private job whose owner has gone (``owner_alive`` says so) is cancelled: skipped when its
  turn comes, stopped at its next progress report when it is running;
- at most ``MAX_PRIVATE_WAITING`` private jobs wait at once; the next one is refused with
  ``QueueFull``, a message the page shows.
"""

from __future__ import annotations

import itertools
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from mnist_viz.core.errors import MnistVizError

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
SHARED, PRIVATE = 0, 1  # priorities: shared results first
MAX_HISTORY = 10_000  # reports kept per job: a training reports about 100 per epoch
MAX_PRIVATE_WAITING = 8  # private jobs queued at once, across all sessions


class QueueFull(MnistVizError):
    """Too many private jobs are waiting; the message says so in words for the page."""


class OwnerBusy(MnistVizError):
    """This session already has a private job queued or running."""


class JobCancelled(MnistVizError):
    """The job's owner went away before it finished."""


# fn(report_progress, report_waiting) -> result
JobFn = Callable[[Callable[[Any], None], Callable[[], None]], Any]

_QUEUES: weakref.WeakSet[JobQueue] = weakref.WeakSet()  # every queue alive in this process


class Job:
    """One piece of work: its state, its latest progress report, and then its result or error."""

    def __init__(
        self,
        key: str,
        fn: JobFn,
        title: str = "",
        priority: int = SHARED,
        owner: str | None = None,
        owner_alive: Callable[[], bool] | None = None,
    ):
        self.key, self.title, self.priority, self.owner = key, title, priority, owner
        self._fn = fn
        self._owner_alive = owner_alive
        self._done = threading.Event()
        self.status = QUEUED
        self.progress: Any = None  # whatever the job last reported (a fraction, TrainingProgress)
        self.history: list[Any] = []  # every report, oldest first (a training's live curves)
        self.waiting = False  # another process holds what the job needs (the model cache lock)
        self.result: Any = None
        self.error: BaseException | None = None

    def abandoned(self) -> bool:
        """Whether the session that owns this job has gone."""
        return self._owner_alive is not None and not self._owner_alive()

    def _run(self) -> None:
        if self.abandoned():
            self._cancel()
            return
        self.status = RUNNING
        try:
            self.result = self._fn(self._report, self._wait)
            self.status = DONE
        except JobCancelled as exc:
            self.error, self.status = exc, CANCELLED
        except BaseException as exc:  # handed to whoever polls the job
            self.error = exc
            self.status = FAILED
        finally:
            self._done.set()

    def _cancel(self) -> None:
        self.error = JobCancelled("its session ended before it ran")
        self.status = CANCELLED
        self._done.set()

    def _report(self, progress: Any) -> None:
        if self.abandoned():  # stops the work at its next progress report
            raise JobCancelled("its session ended while it ran")
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

    def __init__(self, name: str, max_private_waiting: int = MAX_PRIVATE_WAITING):
        self.name = name
        self.max_private_waiting = max_private_waiting
        self._lock = threading.Condition()
        self._pending: list[tuple[int, int, Job]] = []  # (priority, order), kept sorted
        self._order = itertools.count()
        self._active: dict[str, Job] = {}  # queued or running, by key
        self._running: Job | None = None
        self._worker: threading.Thread | None = None
        _QUEUES.add(self)

    def submit(
        self,
        key: str,
        fn: JobFn,
        title: str = "",
        priority: int = SHARED,
        owner: str | None = None,
        owner_alive: Callable[[], bool] | None = None,
    ) -> Job:
        """The job queued or running under ``key``, or a new one running ``fn`` after every job
        of the same or a higher priority. A private job (``owner`` set) raises ``OwnerBusy``
        when its owner has another one under way, ``QueueFull`` when too many wait."""
        with self._lock:
            job = self._active.get(key)
            if job is not None:
                return job
            if owner is not None:
                self._drop_abandoned()  # gone sessions' jobs hold no place
                if any(j.owner == owner for j in self._active.values()):
                    raise OwnerBusy("your earlier request is still being worked on")
                waiting = sum(1 for _, _, j in self._pending if j.priority != SHARED)
                if waiting >= self.max_private_waiting:
                    raise QueueFull(
                        f"the server is busy: {waiting} requests are waiting; try again in a minute"
                    )
            job = self._active[key] = Job(key, fn, title, priority, owner, owner_alive)
            self._pending.append((priority, next(self._order), job))
            self._pending.sort(key=lambda entry: entry[:2])
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
        """How many jobs run before ``job`` as things stand: 0 once it runs (or has finished)."""
        with self._lock:
            jobs = [j for _, _, j in self._pending]
            if job not in jobs:
                return 0
            return jobs.index(job) + (self._running is not None)

    def cancel_abandoned(self) -> int:
        """Cancel every queued job whose owner has gone; returns how many."""
        with self._lock:
            return self._drop_abandoned()

    def _drop_abandoned(self) -> int:
        # the caller holds the lock
        gone = [entry for entry in self._pending if entry[2].abandoned()]
        for entry in gone:
            self._pending.remove(entry)
            self._active.pop(entry[2].key, None)
            entry[2]._cancel()
        if gone:
            self._lock.notify_all()
        return len(gone)

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
                job = self._running = self._pending.pop(0)[2]
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
