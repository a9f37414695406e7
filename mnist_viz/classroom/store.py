"""The class's database: SQLite by default, PostgreSQL when ``MNIST_VIZ_DATABASE_URL`` is set.

SQLite (Python's ``sqlite3``, WAL mode) keeps one file, ``data/class.sqlite3``, that the replicas
on one machine share; PostgreSQL (``psycopg``) serves replicas on several machines. Both speak the
same SQL here: ``?`` placeholders (rewritten to ``%s`` for PostgreSQL), ``{id}`` and ``{blob}`` in
migrations for the two dialects' auto-increment key and byte type.

The schema is versioned: ``MIGRATIONS`` lists every change in order, and ``Store.migrate`` applies
those the database has not seen, each in its own transaction, recording the version reached. A
replica that starts against a database of a newer version refuses to write to it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mnist_viz.classroom import nicknames
from mnist_viz.classroom.breaker import Breaker
from mnist_viz.core.errors import MnistVizError
from mnist_viz.core.folders import data_dir

DATABASE_URL_ENV_VAR = "MNIST_VIZ_DATABASE_URL"
SQLITE_NAME = "class.sqlite3"

MIGRATIONS: list[str] = [
    # 1: classes, students, their drawings, what the teacher pushes, challenges
    """
    CREATE TABLE classes (
        id TEXT PRIMARY KEY,
        created REAL NOT NULL,
        retention_days INTEGER NOT NULL DEFAULT 30,
        served_model TEXT,
        push_id INTEGER NOT NULL DEFAULT 0,
        push_image {blob},
        push_label INTEGER,
        push_text TEXT
    );
    CREATE TABLE students (
        id {id},
        class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
        nickname TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created REAL NOT NULL,
        last_seen REAL NOT NULL,
        UNIQUE (class_id, nickname)
    );
    CREATE TABLE drawings (
        id {id},
        class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
        student_id INTEGER NOT NULL REFERENCES students(id) ON DELETE CASCADE,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        source TEXT NOT NULL,
        png {blob},
        image {blob} NOT NULL,
        predicted INTEGER NOT NULL,
        confidence REAL NOT NULL,
        label INTEGER,
        shared INTEGER NOT NULL DEFAULT 0,
        model_sha256 TEXT NOT NULL
    );
    CREATE INDEX drawings_class_time ON drawings (class_id, created);
    CREATE INDEX drawings_student ON drawings (student_id, created);
    CREATE TABLE challenges (
        id {id},
        class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        image {blob} NOT NULL,
        label INTEGER NOT NULL,
        target INTEGER,
        model_sha256 TEXT NOT NULL,
        created REAL NOT NULL,
        active INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE submissions (
        id {id},
        challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,
        student_id INTEGER NOT NULL REFERENCES students(id) ON DELETE CASCADE,
        score REAL NOT NULL,
        image {blob} NOT NULL,
        created REAL NOT NULL
    );
    CREATE INDEX submissions_challenge ON submissions (challenge_id, score);
    """,
    # 2: when the last push was made, so that a page that opens right after it still takes it
    # (a student whose replica restarted at the moment of a push reconnects as a new session);
    # and on PostgreSQL, times to 8-byte floats: its REAL has 4 bytes, which rounds a time in
    # seconds since 1970 to the nearest two minutes (SQLite's REAL has 8 bytes already)
    """
    ALTER TABLE classes ADD COLUMN push_at {time};
    {widen_times}
    """,
    # 3: a nickname's key (NFKC, case-folded), unique in its class: two joins at once cannot
    # both take one nickname (filled in, and made unique, by _key_nicknames below)
    """
    ALTER TABLE students ADD COLUMN nickname_key TEXT
    """,
]


TIME_COLUMNS = [  # (table, column) of migration 1's times, widened on PostgreSQL by migration 2
    ("classes", "created"),
    ("students", "created"),
    ("students", "last_seen"),
    ("drawings", "created"),
    ("drawings", "updated"),
    ("challenges", "created"),
    ("submissions", "created"),
]


def _key_nicknames(store: Store) -> None:
    """Migration 3's data: each student's nickname key; a key already taken in the class (two
    look-alikes that joined before this rule) gets its student's id appended, so both keep
    their nicknames and nobody new can take either."""
    taken: set[tuple[str, str]] = set()
    rows = store.execute("SELECT id, class_id, nickname FROM students ORDER BY id")
    for student_id, class_id, nickname in rows:
        name_key = nicknames.key(nickname)
        if (class_id, name_key) in taken:
            name_key = f"{name_key}#{student_id}"
        taken.add((class_id, name_key))
        store.execute("UPDATE students SET nickname_key = ? WHERE id = ?", (name_key, student_id))
    store.execute("CREATE UNIQUE INDEX students_nickname_key ON students (class_id, nickname_key)")


AFTER_MIGRATION = {3: _key_nicknames}  # a version's data changes, in its own transaction


class StoreError(MnistVizError):
    """The class's database cannot be reached or used; the message says why."""


class Conflict(StoreError):
    """The database refused a write that would break a uniqueness rule (say, a nickname taken
    by a join at the same moment)."""


def _sever(db: Any) -> None:
    """Shut a PostgreSQL connection's socket down under a call blocked on it (which then fails
    with "server closed the connection"); the pool drops the connection afterwards."""
    with contextlib.suppress(Exception):  # a connection already lost has no descriptor
        duplicate = socket.socket(fileno=os.dup(db.fileno()))  # shutdown acts on the socket
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
        finally:
            duplicate.close()  # closes the duplicate only


def database_url() -> str:
    """``$MNIST_VIZ_DATABASE_URL``, or the SQLite file under the data folder."""
    return os.environ.get(DATABASE_URL_ENV_VAR) or f"sqlite:///{data_dir() / SQLITE_NAME}"


POOL_SIZE = 4  # connections per server process (PostgreSQL's max_connections is ~100)
CONNECT_TIMEOUT_S = 2  # libpq's smallest; a hung server costs one caller this, then the breaker
STATEMENT_TIMEOUT_MS = 5000  # a statement the server takes longer over is cancelled
TCP_USER_TIMEOUT_MS = 5000  # a connection whose packets go unanswered this long is dropped
# A connection lent longer than this is cut from this side: a server that stopped answering
# mid-statement (hung, or a stopped process on a local socket, where neither the statement
# timeout nor TCP's can act) would otherwise hold its caller, and its page, for good.
LENT_DEADLINE_S = 6.0
# A one-row read (the push mirror's, ten times a second) gets this long: the first sign of a hang.
QUICK_DEADLINE_S = 1.0
# When one connection is cut for a hang, every other one lent at least this long is cut too: a
# hung server holds them all, and the pages waiting on them should not wait for their own.
HUNG_TOO_S = 0.5
READY_WAIT_S = CONNECT_TIMEOUT_S + 1.0
WATCH_EVERY_S = 0.25


class Store:
    """One database, shared by every session of this process, through a pool of at most
    ``POOL_SIZE`` connections, each lent for one statement or one transaction (a connection
    per thread would exhaust a PostgreSQL server, and leak: every Streamlit script run is a
    thread of its own)."""

    def __init__(self, url: str | None = None):
        self.url = url or database_url()
        self.postgres = self.url.startswith(("postgresql://", "postgres://"))
        if not self.postgres and not self.url.startswith("sqlite:///"):
            raise StoreError("the database URL must start with sqlite:/// or postgresql://")
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._idle: list[Any] = []  # PostgreSQL: pooled connections not lent out
        self._lendable = threading.BoundedSemaphore(POOL_SIZE)
        self.breaker = Breaker()  # shared by every caller of this store: pages, callbacks, mirror
        self._ready = False
        self._readying = threading.Lock()
        # PostgreSQL: id -> (lent at, deadline, connection)
        self._lent: dict[int, tuple[float, float, Any]] = {}
        self._watchdog: threading.Thread | None = None

    # -- connections ---------------------------------------------------------------------------

    @property
    def sqlite_path(self) -> Path:
        return Path(self.url.removeprefix("sqlite:///"))

    def _connect(self):
        if self.postgres:
            import psycopg

            try:
                return psycopg.connect(
                    self.url,
                    autocommit=True,
                    connect_timeout=CONNECT_TIMEOUT_S,
                    options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
                    # over TCP a partitioned network fails a statement instead of hanging it
                    # (libpq ignores it on a local socket)
                    tcp_user_timeout=TCP_USER_TIMEOUT_MS,
                )
            except psycopg.Error as exc:
                raise StoreError(f"cannot reach the class database ({exc})") from None
        path = self.sqlite_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at each checkpoint, fast
            db.execute("PRAGMA foreign_keys=ON")
            with contextlib.suppress(OSError):
                os.chmod(path, 0o600)
            return db
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the class database {path} ({exc})") from None

    @contextlib.contextmanager
    def _held(self) -> Iterator[Any]:
        """A connection for the block, lent from the pool; nested blocks in one thread share it.

        Lent, not kept per thread: Streamlit runs every script run in a new thread, so a
        connection per thread would open the database on each run and never close it."""
        held = getattr(self._local, "held", None)
        if held is not None:
            yield held
            return
        if not self.breaker.admit():
            raise StoreError(self.down_message())
        if not self._lendable.acquire(timeout=30):
            self.breaker.end_trial()  # busy, not down: let the next caller try
            raise StoreError("the class database is busy; try again in a moment")
        try:
            with self._lock:
                db = self._idle.pop() if self._idle else None
            if db is None or self._closed(db):
                try:
                    db = self._connect()
                except StoreError as exc:
                    self.breaker.failed(str(exc))
                    raise
                with self._lock:
                    self._connections.append(db)
            self._local.held = db
            self._lend(db)
            try:
                yield db
            finally:
                self._local.held = None
                with self._lock:
                    self._lent.pop(id(db), None)
                if not self._closed(db):
                    with self._lock:
                        self._idle.append(db)
        finally:
            self._lendable.release()
            self.breaker.end_trial()  # a trial that reported nothing leaves the next one free

    def _lend(self, db: Any) -> None:
        if not self.postgres:
            return  # SQLite answers from this process: its own timeout bounds a lock wait
        now = time.monotonic()
        deadline = getattr(self._local, "deadline", None) or LENT_DEADLINE_S
        with self._lock:
            self._lent[id(db)] = (now, now + deadline, db)
        if self._watchdog is None or not self._watchdog.is_alive():
            with self._lock:
                if self._watchdog is None or not self._watchdog.is_alive():
                    self._watchdog = threading.Thread(
                        target=self._watch, name="store-watchdog", daemon=True
                    )
                    self._watchdog.start()

    def _watch(self) -> None:
        """Cut connections lent past their deadline: the blocked call then fails at once, and
        the breaker opens, so the next callers do not wait too."""
        while True:
            time.sleep(WATCH_EVERY_S)
            now = time.monotonic()
            lent = list(self._lent.items())
            if not any(now >= deadline for _, (_, deadline, _) in lent):
                continue
            self.breaker.failed("the class database stopped answering")
            for key, entry in lent:
                since, deadline, db = entry
                if now >= deadline or now - since >= HUNG_TOO_S:
                    with self._lock:  # the same lending still (not returned and lent again)
                        if self._lent.get(key) is not entry:
                            continue
                        self._lent.pop(key, None)
                    _sever(db)

    @contextlib.contextmanager
    def quick(self) -> Iterator[None]:
        """Statements in the block are cut after ``QUICK_DEADLINE_S`` (one-row reads)."""
        self._local.deadline = QUICK_DEADLINE_S
        try:
            yield
        finally:
            self._local.deadline = None

    def _closed(self, db: Any) -> bool:
        return bool(db.closed) if self.postgres else False

    def down_message(self) -> str:
        """Why the class is unavailable, and when it is tried again."""
        why = self.breaker.last_failure or "it did not answer"
        return (
            f"the class database is unavailable ({why}); the app tries again in "
            f"{max(1, round(self.breaker.retry_in()))} s, and your saved work is kept there"
        )

    def _lost(self, db: Any, exc: Exception) -> bool:
        """True when ``exc`` says the database itself is gone (not that it refused a request)."""
        if not self.postgres:
            return False  # a SQLite file that opened answers; its failures are per request
        import psycopg

        # a statement cancelled by its timeout was cancelled by a server that runs: not lost
        return bool(db.closed) and not isinstance(exc, psycopg.errors.QueryCanceled)

    def _conflict(self, exc: Exception) -> bool:
        if self.postgres:
            import psycopg

            return isinstance(exc, psycopg.errors.UniqueViolation)
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)

    def ready(self) -> None:
        """Bring the schema up to date once per process; StoreError while that cannot be done.
        A failure is not remembered here but by the breaker, so a down database costs the
        callers nothing until its retry."""
        if self._ready:
            return
        # Callers that find another one migrating wait for it (a restarted replica's pages all
        # reconnect at once; refused, a student's first run there would not find them), but not
        # for longer than a hung server could hold the first.
        if not self._readying.acquire(timeout=READY_WAIT_S):
            raise StoreError("the class database is being prepared; try again in a moment")
        try:
            if not self._ready:
                self.migrate()
                self._ready = True
        finally:
            self._readying.release()

    def close(self) -> None:
        """Close every connection this store opened (tests, shutdown)."""
        with self._lock:
            for db in self._connections:
                with contextlib.suppress(Exception):
                    db.close()
            self._connections.clear()
            self._idle.clear()
        self._local = threading.local()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def _errors(self) -> tuple[type[Exception], ...]:
        if self.postgres:
            import psycopg

            return (psycopg.Error,)
        return (sqlite3.Error,)

    # -- queries -------------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one statement; its rows (empty for a statement without any)."""
        for attempt in range(2):
            with self._held() as db:
                try:
                    cursor = db.execute(self._sql(sql), tuple(params))
                    rows = cursor.fetchall() if cursor.description else []
                    self.breaker.succeeded()
                    return [
                        tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows
                    ]
                except self._errors() as exc:
                    # a restarted server: a fresh connection, once (not inside a transaction)
                    retry = self.postgres and attempt == 0 and db.closed
                    if not retry or getattr(self._local, "in_transaction", False):
                        if self._conflict(exc):
                            self.breaker.succeeded()
                            raise Conflict(f"already taken ({exc})") from None
                        if self._lost(db, exc):
                            self.breaker.failed(str(exc).strip().splitlines()[0][:200])
                        else:  # it answered (a refusal is an answer): it is up
                            self.breaker.succeeded()
                        raise StoreError(f"the class database refused a request ({exc})") from None
        raise AssertionError("unreachable")

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        rows = self.execute(sql, params)
        return rows[0] if rows else None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Statements that commit together, or not at all."""
        try:
            if self.postgres:
                with self._held() as db, db.transaction():
                    self._local.in_transaction = True
                    try:
                        yield
                    finally:
                        self._local.in_transaction = False
                return
            with self._held() as db:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                    raise
                try:
                    db.execute("COMMIT")
                except sqlite3.Error:  # a full disk: the transaction may stay open; end it
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                    raise
        except self._errors() as exc:  # BEGIN or COMMIT failed: a sentence, not a driver error
            raise StoreError(f"the class database refused a request ({exc})") from None

    # -- the schema ----------------------------------------------------------------------------

    def version(self) -> int:
        """The schema version the database has reached (0: empty)."""
        self.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = self.one("SELECT MAX(version) FROM schema_version")
        return int(row[0]) if row and row[0] is not None else 0

    def migrate(self) -> int:
        """Bring the schema up to date; returns the version reached. Replicas may all call this
        at start: one applies each migration, the others find it applied."""
        current = self.version()
        if current > len(MIGRATIONS):
            raise StoreError(
                f"the class database is at schema version {current}, newer than this app "
                f"({len(MIGRATIONS)}); update the app"
            )
        dialect = {
            "{id}": "BIGSERIAL PRIMARY KEY"
            if self.postgres
            else "INTEGER PRIMARY KEY AUTOINCREMENT",
            "{blob}": "BYTEA" if self.postgres else "BLOB",
            "{time}": "DOUBLE PRECISION" if self.postgres else "REAL",
            "{widen_times}": ";".join(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE DOUBLE PRECISION"
                for table, column in TIME_COLUMNS
            )
            if self.postgres
            else "",
        }
        for version in range(current + 1, len(MIGRATIONS) + 1):
            script = MIGRATIONS[version - 1]
            for key, value in dialect.items():
                script = script.replace(key, value)
            with self._migration_lock(), self.transaction():
                if self.version() >= version:  # another replica was first
                    continue
                for statement in (s.strip() for s in script.split(";")):
                    if statement:
                        self.execute(statement)
                if version in AFTER_MIGRATION:
                    AFTER_MIGRATION[version](self)
                self.execute("INSERT INTO schema_version VALUES (?)", (version,))
        return self.version()

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.postgres:  # an advisory lock (of one connection): one replica migrates at a time
            with self._held():
                self.execute("SELECT pg_advisory_lock(4242)")
                try:
                    yield
                finally:
                    self.execute("SELECT pg_advisory_unlock(4242)")
        else:  # BEGIN IMMEDIATE in transaction() already serialises writers
            yield
