"""Who may change what every student sees: the teacher, by password.

Retraining a shared model replaces it for the whole class and holds the CPU for minutes, so it
needs the teacher's password. The password comes from ``MNIST_VIZ_TEACHER_PASSWORD`` or from
``teacher_password`` in ``.streamlit/secrets.toml``; with neither, or one shorter than
``MIN_PASSWORD_CHARS``, nobody can sign in (the command line still trains).

Wrong guesses are counted in a small SQLite file (``FailureLedger``) that every replica on the
machine shares, so reloading the page or reaching another replica gives no fresh guesses:
- each client address gets ``FREE_ATTEMPTS`` wrong guesses, then waits ``LOCKOUT_SECONDS`` before
  each further try, doubling with every further failure up to ``MAX_LOCKOUT_SECONDS``;
- however many addresses guess, after ``GLOBAL_FREE_ATTEMPTS`` failures within ``WINDOW_SECONDS``
  every try waits ``LOCKOUT_SECONDS`` (a class behind one address, or many guessers at once).
Failures are logged with the address and never with the guess.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import sqlite3
import stat
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PASSWORD_ENV_VAR = "MNIST_VIZ_TEACHER_PASSWORD"
PASSWORD_SECRET = "teacher_password"
MIN_PASSWORD_CHARS = 12
FREE_ATTEMPTS = 3  # wrong passwords allowed per address before each further try has to wait
LOCKOUT_SECONDS = 30.0
MAX_LOCKOUT_SECONDS = 15 * 60.0
GLOBAL_FREE_ATTEMPTS = 20  # failures from all addresses together within the window
WINDOW_SECONDS = 15 * 60.0  # failures older than this are forgotten
LEDGER_NAME = "sign-in.sqlite3"


@dataclass(frozen=True)
class PasswordSetting:
    """The configured teacher password, or why teacher controls are off."""

    password: str | None
    problem: str | None = None  # None: usable (or simply not set)

    @property
    def usable(self) -> bool:
        return self.password is not None and self.problem is None


def password_setting(secrets: Mapping | None = None) -> PasswordSetting:
    """The teacher password (environment first, then secrets), refused when too short."""
    value = os.environ.get(PASSWORD_ENV_VAR)
    if not value and secrets is not None:
        try:
            value = secrets.get(PASSWORD_SECRET)
        except Exception:  # a missing or broken secrets.toml means "not configured"
            value = None
    if not value:
        return PasswordSetting(None)
    value = str(value)
    if len(value) < MIN_PASSWORD_CHARS:
        return PasswordSetting(
            None,
            f"the teacher password is shorter than {MIN_PASSWORD_CHARS} characters, so teacher "
            "controls are off; set a longer one (a few words) and restart the app",
        )
    return PasswordSetting(value)


def teacher_password(secrets: Mapping | None = None) -> str | None:
    """The configured, usable teacher password, or None."""
    setting = password_setting(secrets)
    return setting.password if setting.usable else None


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison, so the time taken says nothing about how close a guess was."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def secrets_file_problem(path: Path) -> str | None:
    """A warning when ``path`` (the secrets file) can be read by other users of the machine."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"{path} can be read by other users of this machine: run `chmod 600 {path}`"
    return None


class FailureLedger:
    """Wrong passwords per client address, in a SQLite file shared by the replicas."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS failures (client TEXT NOT NULL, at REAL NOT NULL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS failures_client ON failures (client, at)")
            yield db
        finally:
            db.close()
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)

    def wait_seconds(self, client: str, now: float | None = None) -> float:
        """How long ``client`` must wait before its next try is accepted (0: now)."""
        now = time.time() if now is None else now
        since = now - WINDOW_SECONDS
        with self._db() as db:
            mine = db.execute(
                "SELECT COUNT(*), MAX(at) FROM failures WHERE client = ? AND at > ?",
                (client, since),
            ).fetchone()
            everyone = db.execute(
                "SELECT COUNT(*), MAX(at) FROM failures WHERE at > ?", (since,)
            ).fetchone()
        wait = 0.0
        count, last = mine
        if count >= FREE_ATTEMPTS:
            lockout = min(MAX_LOCKOUT_SECONDS, LOCKOUT_SECONDS * 2 ** (count - FREE_ATTEMPTS))
            wait = max(wait, last + lockout - now)
        count, last = everyone
        if count >= GLOBAL_FREE_ATTEMPTS:
            wait = max(wait, last + LOCKOUT_SECONDS - now)
        return max(0.0, wait)

    def record_failure(self, client: str, now: float | None = None) -> int:
        """Count one wrong password from ``client``; returns its failures within the window."""
        now = time.time() if now is None else now
        with self._db() as db:
            db.execute("DELETE FROM failures WHERE at <= ?", (now - WINDOW_SECONDS,))
            db.execute("INSERT INTO failures VALUES (?, ?)", (client, now))
            (count,) = db.execute(
                "SELECT COUNT(*) FROM failures WHERE client = ?", (client,)
            ).fetchone()
        return count

    def clear(self, client: str) -> None:
        """Forget ``client``'s failures (after it signed in)."""
        with self._db() as db:
            db.execute("DELETE FROM failures WHERE client = ?", (client,))

    def attempt(self, given: str, expected: str, client: str, now: float | None = None) -> bool:
        """Check a password from ``client``; a wrong one, or one tried too early, returns False.
        Failures are logged without the guess."""
        now = time.time() if now is None else now
        try:
            wait = self.wait_seconds(client, now)
        except (OSError, sqlite3.Error):  # an unreadable ledger (a full disk) locks nobody out
            log.exception("the sign-in ledger cannot be read; checking the password without it")
            wait = 0.0
        if wait > 0:
            log.warning("teacher sign-in from %s refused: too many wrong passwords", client)
            return False
        if password_matches(given, expected):
            with contextlib.suppress(OSError, sqlite3.Error):
                self.clear(client)
            log.info("teacher signed in from %s", client)
            return True
        try:
            count = self.record_failure(client, now)
        except (OSError, sqlite3.Error):
            log.exception("the sign-in ledger cannot record a wrong password from %s", client)
            time.sleep(1.0)  # unrecorded: at least slow the guesser
            return False
        log.warning(
            "teacher sign-in failed from %s (%d wrong password%s in %d minutes)",
            client,
            count,
            "s" if count != 1 else "",
            WINDOW_SECONDS // 60,
        )
        return False
