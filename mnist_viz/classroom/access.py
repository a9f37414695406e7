"""Who may change what every student sees: the teacher, by password.

Retraining a shared model replaces it for the whole class and holds the CPU for minutes, so it
needs the teacher's password. The password comes from ``MNIST_VIZ_TEACHER_PASSWORD`` or from
``teacher_password`` in ``.streamlit/secrets.toml``; with neither, or one shorter than
``MIN_PASSWORD_CHARS``, nobody can sign in (the command line still trains).

Wrong guesses are counted in a small SQLite file (``FailureLedger``) that every replica on the
machine shares, so reloading the page or reaching another replica gives no fresh guesses:
- each browser gets ``FREE_ATTEMPTS`` wrong guesses, then waits ``LOCKOUT_SECONDS`` before each
  further try, doubling with every further failure up to ``MAX_LOCKOUT_SECONDS``;
- each client address gets ``ADDRESS_FREE_ATTEMPTS`` (a student opening fresh browsers), after
  which the same growing waits hold for every browser of that address except those the teacher
  has signed in on: the right password from the teacher's browser is never refused because of
  someone else's failures, and there is no lock for everyone;
- a teacher locked out on a new browser runs ``make teacher-link`` on the server: a one-time
  link, valid for ``LINK_SECONDS``.
Failures are logged with the address and never with the guess.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PASSWORD_ENV_VAR = "MNIST_VIZ_TEACHER_PASSWORD"
PASSWORD_SECRET = "teacher_password"
MIN_PASSWORD_CHARS = 12
FREE_ATTEMPTS = 3  # wrong passwords per browser before each further try has to wait
# ... and per address, for browsers the teacher has not signed in on: a class behind one school
# address mistyping now and then stays under it; a student guessing on many browsers does not.
ADDRESS_FREE_ATTEMPTS = 10
LOCKOUT_SECONDS = 30.0
MAX_LOCKOUT_SECONDS = 15 * 60.0
WINDOW_SECONDS = 15 * 60.0  # failures older than this are forgotten
# A browser the teacher signed in on stays theirs this long, as long as it keeps the cookie it is
# known by (ui/teacher.py: nginx's replica cookie lasts until the browser closes).
TRUST_SECONDS = 90 * 86400.0
LINK_SECONDS = 10 * 60.0  # a one-time sign-in link (make teacher-link) is valid this long
SPIKE_FAILURES = 10  # the class view warns at this many wrong passwords in the window
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


@dataclass(frozen=True)
class Attempt:
    """What a sign-in attempt came to: signed in, or not and how long this browser must wait."""

    signed_in: bool
    wait_s: float = 0.0
    refused_unchecked: bool = False  # tried too early: the password was not even compared


def _lockout(failures: int, free: int) -> float:
    """The wait after ``failures`` wrong passwords of which ``free`` cost nothing."""
    if failures < free:
        return 0.0
    return min(MAX_LOCKOUT_SECONDS, LOCKOUT_SECONDS * 2 ** (failures - free))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS wrong (device TEXT NOT NULL, client TEXT NOT NULL, "
    "at REAL NOT NULL);"
    "CREATE INDEX IF NOT EXISTS wrong_device ON wrong (device, at);"
    "CREATE INDEX IF NOT EXISTS wrong_client ON wrong (client, at);"
    "CREATE TABLE IF NOT EXISTS trusted (device TEXT PRIMARY KEY, at REAL NOT NULL);"
    "CREATE TABLE IF NOT EXISTS links (token_hash TEXT PRIMARY KEY, expires REAL NOT NULL);"
)


# When a ledger's file cannot be used (a full disk, a broken folder), this process counts in
# memory instead, per file (every page opens its own FailureLedger): guesses stay limited per
# browser and per address on this replica, and nobody is locked out for good. The teacher's
# trusted browsers are not known there.
_memory: dict[str, sqlite3.Connection] = {}
_memory_lock = threading.Lock()


@contextlib.contextmanager
def _committed(db: sqlite3.Connection, begin: str) -> Iterator[None]:
    """``begin``, then COMMIT, or ROLLBACK when the block raises."""
    db.execute(begin)
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class FailureLedger:
    """Wrong passwords per browser and per client address, the browsers the teacher signed in
    on, and one-time sign-in links, in a SQLite file shared by the replicas of this machine.

    A browser (``device``: a key from its cookies) that guessed wrong waits, longer with each
    further failure; so does every browser of an address with many failures, except one on which
    the teacher has signed in before: students behind the school's one address cannot lock the
    teacher out of it, and there is no lock for everyone. Reserve, count and compare happen in
    one transaction, so parallel tries get no extra guesses."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            yield db
        finally:
            db.close()
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._db() as db, _committed(db, "BEGIN IMMEDIATE"):  # one at a time, every replica
            yield db

    @contextlib.contextmanager
    def _memory_transaction(self) -> Iterator[sqlite3.Connection]:
        with _memory_lock:  # one attempt at a time in this process
            key = str(self.path.absolute())
            if key not in _memory:
                _memory[key] = sqlite3.connect(
                    ":memory:", isolation_level=None, check_same_thread=False
                )
                _memory[key].executescript(_SCHEMA)
            with _committed(_memory[key], "BEGIN"):
                yield _memory[key]

    @staticmethod
    def _wait(db: sqlite3.Connection, device: str, client: str, now: float) -> float:
        since = now - WINDOW_SECONDS
        count, last = db.execute(
            "SELECT COUNT(*), MAX(at) FROM wrong WHERE device = ? AND at > ?", (device, since)
        ).fetchone()
        wait = last + _lockout(count, FREE_ATTEMPTS) - now if count else 0.0
        trusted = db.execute(
            "SELECT 1 FROM trusted WHERE device = ? AND at > ?", (device, now - TRUST_SECONDS)
        ).fetchone()
        if not trusted:
            count, last = db.execute(
                "SELECT COUNT(*), MAX(at) FROM wrong WHERE client = ? AND at > ?", (client, since)
            ).fetchone()
            if count:
                wait = max(wait, last + _lockout(count, ADDRESS_FREE_ATTEMPTS) - now)
        return max(0.0, wait)

    def wait_seconds(
        self, client: str, device: str | None = None, now: float | None = None
    ) -> float:
        """How long this browser (at ``client``) must wait before its next try (0: now)."""
        now = time.time() if now is None else now
        with self._db() as db:
            return self._wait(db, device or client, client, now)

    def record_failure(
        self, client: str, device: str | None = None, now: float | None = None
    ) -> int:
        """Count one wrong password; returns the browser's failures within the window."""
        now = time.time() if now is None else now
        with self._db() as db:
            return self._record(db, device or client, client, now)

    @staticmethod
    def _record(db: sqlite3.Connection, device: str, client: str, now: float) -> int:
        db.execute("DELETE FROM wrong WHERE at <= ?", (now - WINDOW_SECONDS,))
        db.execute("INSERT INTO wrong VALUES (?, ?, ?)", (device, client, now))
        (count,) = db.execute("SELECT COUNT(*) FROM wrong WHERE device = ?", (device,)).fetchone()
        return count

    def _trust(self, db: sqlite3.Connection, device: str, now: float) -> None:
        db.execute("DELETE FROM wrong WHERE device = ?", (device,))
        db.execute(
            "INSERT INTO trusted VALUES (?, ?) ON CONFLICT (device) DO UPDATE SET at = excluded.at",
            (device, now),
        )

    def attempt(
        self,
        given: str,
        expected: str,
        client: str,
        device: str | None = None,
        now: float | None = None,
    ) -> Attempt:
        """Check a password from this browser (``device``, at address ``client``); one tried
        too early is refused without being compared. Failures are logged without the guess."""
        now = time.time() if now is None else now
        device = device or client
        try:
            with self._transaction() as db:
                return self._attempt(db, given, expected, device, client, now)
        except (OSError, sqlite3.Error):  # an unusable ledger (a full disk) locks nobody out
            log.exception("the sign-in ledger cannot be used; counting in this process's memory")
        with self._memory_transaction() as db:
            return self._attempt(db, given, expected, device, client, now)

    def _attempt(
        self, db: sqlite3.Connection, given: str, expected: str, device: str, client: str, now
    ) -> Attempt:
        wait = self._wait(db, device, client, now)
        if wait > 0:
            log.warning("teacher sign-in from %s refused: too many wrong passwords", client)
            return Attempt(False, wait, refused_unchecked=True)
        if password_matches(given, expected):
            self._trust(db, device, now)
            log.info("teacher signed in from %s", client)
            return Attempt(True)
        count = self._record(db, device, client, now)
        log.warning(
            "teacher sign-in failed from %s (%d wrong password%s from this browser in %d minutes)",
            client,
            count,
            "s" if count != 1 else "",
            WINDOW_SECONDS // 60,
        )
        return Attempt(False, self._wait(db, device, client, now))

    def recent_failures(self, now: float | None = None) -> tuple[int, int]:
        """Wrong passwords in the window, and from how many addresses (for the class view)."""
        now = time.time() if now is None else now
        with self._db() as db:
            count, addresses = db.execute(
                "SELECT COUNT(*), COUNT(DISTINCT client) FROM wrong WHERE at > ?",
                (now - WINDOW_SECONDS,),
            ).fetchone()
        return int(count), int(addresses)

    def issue_link(self, valid_s: float = LINK_SECONDS, now: float | None = None) -> str:
        """A one-time sign-in token (for ``make teacher-link``), valid for ``valid_s``."""
        now = time.time() if now is None else now
        token = secrets.token_urlsafe(24)
        with self._db() as db:
            db.execute("DELETE FROM links WHERE expires <= ?", (now,))
            db.execute("INSERT INTO links VALUES (?, ?)", (_hash(token), now + valid_s))
        return token

    def redeem(self, token: str, device: str, now: float | None = None) -> bool:
        """Sign in with a one-time token: True once, while it is valid; the browser is then
        one the teacher signed in on."""
        if not isinstance(token, str) or not 16 <= len(token) <= 64:
            return False
        now = time.time() if now is None else now
        with self._transaction() as db:
            row = db.execute(
                "DELETE FROM links WHERE token_hash = ? RETURNING expires", (_hash(token),)
            ).fetchone()
            if row is None or row[0] <= now:
                return False
            self._trust(db, device, now)
        log.info("teacher signed in with a one-time link")
        return True
