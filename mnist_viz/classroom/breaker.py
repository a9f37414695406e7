"""A circuit breaker for the class's database: fail fast while it is down, retry by itself.

A hung PostgreSQL (a server that accepts connections and never answers, or a network partition)
would otherwise hold every page run for the connect timeout, on every rerun, for every student.
After a connection-level failure the breaker opens: every caller is refused at once (microseconds,
no network) until ``RETRY_S`` has passed; then one caller, and only one, tries the database again
(the others are still refused while it does); its success closes the breaker, its failure opens
it for another ``RETRY_S``. One breaker per ``Store``, so the pages, the callbacks and the push
mirror of a server process share it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

RETRY_S = 10.0  # how long the database is left alone after a failure


class Breaker:
    """Closed (callers pass), open (callers refused until ``retry_at``), or trying (one caller
    passes; the rest are refused until it reports)."""

    def __init__(
        self, retry_s: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.retry_s = RETRY_S if retry_s is None else retry_s
        self._clock = clock
        self._lock = threading.Lock()
        self._retry_at: float | None = None  # None: closed
        self._trying = False
        self._trial_thread: int | None = None
        self.last_failure: str | None = None

    @property
    def is_open(self) -> bool:
        """True while the database is treated as down."""
        return self._retry_at is not None

    def admit(self) -> bool:
        """True when the caller may use the database now; False: refuse it without trying."""
        if self._retry_at is None:  # the common case, without taking the lock
            return True
        with self._lock:
            if self._retry_at is None:
                return True
            if self._trying or self._clock() < self._retry_at:
                return False
            self._trying, self._trial_thread = True, threading.get_ident()  # the one trial
            return True

    def retry_in(self) -> float:
        """Seconds until the next trial (0 when closed or due)."""
        retry_at = self._retry_at
        return 0.0 if retry_at is None else max(0.0, retry_at - self._clock())

    def succeeded(self) -> None:
        """The database answered: close the breaker."""
        if self._retry_at is None and not self._trying:
            return
        with self._lock:
            self._retry_at, self._trying, self._trial_thread = None, False, None
            self.last_failure = None

    def end_trial(self) -> None:
        """This thread's trial ends without a verdict (it never reached the database): the
        breaker stays open and the next caller after ``retry_at`` tries."""
        if not self._trying or self._trial_thread != threading.get_ident():
            return
        with self._lock:
            if self._trial_thread == threading.get_ident():
                self._trying, self._trial_thread = False, None

    def failed(self, why: str) -> None:
        """The database could not be reached: open (again) for ``retry_s``."""
        with self._lock:
            self._retry_at = self._clock() + self.retry_s
            self._trying, self._trial_thread = False, None
            self.last_failure = why
