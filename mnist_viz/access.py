"""Who may change what every student sees: the teacher, by password.

Retraining a shared model replaces it for the whole class and holds the CPU for minutes, so it
needs the teacher's password. The password comes from ``MNIST_VIZ_TEACHER_PASSWORD`` or from
``teacher_password`` in ``.streamlit/secrets.toml``; with neither, nobody can retrain from the app
(the command line still can). Wrong guesses are slowed down per session.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

PASSWORD_ENV_VAR = "MNIST_VIZ_TEACHER_PASSWORD"
PASSWORD_SECRET = "teacher_password"
FREE_ATTEMPTS = 3  # wrong passwords allowed before each further try has to wait
LOCKOUT_SECONDS = 30.0


def teacher_password(secrets: Mapping | None = None) -> str | None:
    """The configured teacher password (environment first, then secrets), or None if unset."""
    value = os.environ.get(PASSWORD_ENV_VAR)
    if not value and secrets is not None:
        try:
            value = secrets.get(PASSWORD_SECRET)
        except Exception:  # a missing or broken secrets.toml means "not configured"
            value = None
    return str(value) if value else None


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison, so the time taken says nothing about how close a guess was."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@dataclass
class SignInGuard:
    """Counts one session's wrong passwords; after ``FREE_ATTEMPTS`` each try waits its turn."""

    failures: int = 0
    locked_until: float = 0.0

    def wait_seconds(self, now: float) -> float:
        """How long before the next try is accepted (0: now)."""
        return max(0.0, self.locked_until - now)

    def attempt(self, given: str, expected: str, now: float) -> bool:
        """Check a password; a wrong one (or one tried too early) returns False."""
        if self.wait_seconds(now) > 0:
            return False
        if password_matches(given, expected):
            self.failures = 0
            return True
        self.failures += 1
        if self.failures >= FREE_ATTEMPTS:
            self.locked_until = now + LOCKOUT_SECONDS
        return False
