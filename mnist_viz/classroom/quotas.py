"""How much one student, one address or one class may add, so that a hostile or stuck browser
cannot fill the class's database or crowd out the others. Each limit sits well above what a
person does in a lesson, and each refusal is a sentence for the student (``roster``, ``drawings``,
``challenges``)."""

from __future__ import annotations

import threading
import time
from collections import deque

# A person draws at most about one digit every 2 s; the lesson benchmark's busiest protocol
# students save about 25 a minute.
DRAWINGS_PER_MINUTE = 60
DRAWINGS_PER_STUDENT = 5_000
STUDENTS_PER_CLASS = 300
# A whole class may join from one school address in the lesson's first minute.
JOINS_PER_ADDRESS_PER_MINUTE = 60
SUBMISSIONS_PER_CHALLENGE = 50  # per student


class JoinsPerAddress:
    """Joins per client address in the last minute, in this server process's memory: the class
    stores no addresses (privacy), so with several replicas each counts its own."""

    def __init__(self, limit: int = JOINS_PER_ADDRESS_PER_MINUTE, window_s: float = 60.0):
        self.limit, self.window_s = limit, window_s
        self._times: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        for key in [k for k, v in self._times.items() if not v or v[-1] <= now - self.window_s]:
            del self._times[key]  # addresses quiet for a minute are forgotten
        times = self._times.setdefault(address, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def full(self, address: str, now: float | None = None) -> bool:
        """Whether ``address`` has had its limit of joins in the last minute."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return len(self._recent(address, now)) >= self.limit

    def record(self, address: str, now: float | None = None) -> None:
        """Count a join that succeeded (a refused one, say a nickname taken, costs nothing)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._recent(address, now).append(now)

    def admit(self, address: str, now: float | None = None) -> bool:
        """Count a join from ``address``; False (not counted) when it has had its limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent(address, now)
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True


JOINS = JoinsPerAddress()  # this server process's count
