"""The class as a whole: students under nicknames, their saved drawings and labels, what the
teacher pushes to everyone, challenges with a leaderboard, exports, retention and deletion.

Privacy by design: a student is a nickname (no e-mail, no real name) and a random resume token
(only its SHA-256 is stored); a drawing is shown to the class (the teacher's galleries, pushes)
only when its student shares it; everything of a class is deleted with it, and drawings older than
the class's retention are purged.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import secrets
import time
import zipfile
from dataclasses import dataclass

import numpy as np
from PIL import Image

from mnist_viz.classroom import nicknames, quotas
from mnist_viz.classroom.store import Conflict, Store, StoreError
from mnist_viz.core.errors import MnistVizError

DEFAULT_CLASS = "class"
ACTIVE_SECONDS = 5 * 60.0  # a student seen within this is active
RATE_WINDOW_SECONDS = 5 * 60.0  # drawings per minute are counted over this
MAX_RETENTION_DAYS = 365


# A push this young reaches a page that opens now: a replica's restart, with the reconnect and
# the new session's first run, takes a few seconds (measured: reconnects within 0.07 s through
# nginx, and the restarted replica's start under 10 s).
RECENT_PUSH_S = 10.0


# How often students' pages ask for the latest push id: behind nginx (deploy/classroom.py sets
# the variable), nginx serves the file and pages ask four times a second; a single server serves
# it itself, to pages that ask twice a second. The floor keeps 60 pages behind one school address
# under nginx's push rate limit (300 a second).
PUSH_ASK_ENV_VAR = "MNIST_VIZ_PUSH_ASK_MS"
PUSH_ASK_MS, PUSH_ASK_MIN_MS, PUSH_ASK_MAX_MS = 500, 200, 5000


def ask_every_ms(environ: dict | None = None) -> int:
    """How often pages ask for the push id (ms): ``$MNIST_VIZ_PUSH_ASK_MS``, kept within
    200-5000, or 500 when unset or not a number."""
    value = (os.environ if environ is None else environ).get(PUSH_ASK_ENV_VAR, PUSH_ASK_MS)
    try:
        return min(PUSH_ASK_MAX_MS, max(PUSH_ASK_MIN_MS, int(value)))
    except ValueError:
        return PUSH_ASK_MS


class ClassError(MnistVizError):
    """A class action that cannot be done; the message says why, for the page."""


class QuotaExceeded(ClassError):
    """A limit of ``quotas`` was reached: the message says which, and when it frees up."""


@dataclass(frozen=True)
class Student:
    id: int
    nickname: str


@dataclass(frozen=True)
class SavedDrawing:
    id: int
    student: str  # nickname
    created: float
    source: str
    image: np.ndarray  # (28, 28) uint8
    predicted: int
    confidence: float
    label: int | None
    shared: bool
    png: bytes | None = None


@dataclass(frozen=True)
class Push:
    id: int  # grows with every push; 0: nothing pushed yet
    image: np.ndarray | None
    label: int | None
    text: str
    at: float | None = None  # when it was pushed (time.time()); None before migration 2

    def seen_by_a_new_page(self, now: float, recent_s: float = RECENT_PUSH_S) -> int:
        """The push id a page opened at ``now`` counts as already seen: this push's, unless it
        is younger than ``recent_s`` (then the one before, so the page takes this one). A page
        does not jump to an old push, but one that reconnected as a new session (a replica
        restarted in the moment of the push) or was reloaded just then still gets it."""
        if self.id and self.image is not None and self.at is not None and now - self.at <= recent_s:
            return self.id - 1
        return self.id


@dataclass(frozen=True)
class Challenge:
    id: int
    kind: str  # "fool": smallest L-infinity change that changes the answer; "target": make it say
    image: np.ndarray  # (28, 28) uint8
    label: int
    target: int | None
    model_sha256: str

    def is_on(self, image: np.ndarray) -> bool:
        """Whether ``image`` (uint8, 28 x 28) is this challenge's digit."""
        return np.array_equal(np.asarray(image), self.image)


def label_of(choice: str | None, predicted: int, right: str) -> int | None:
    """The label a tap gives: ``right`` (the network was right) labels the drawing with the
    predicted digit, a digit with itself, no choice with nothing."""
    if choice is None:
        return None
    return int(predicted) if choice == right else int(choice)


def read_right(matrix: np.ndarray) -> tuple[int, int]:
    """From a confusion matrix: how many were read right, of how many."""
    return int(np.trace(matrix)), int(matrix.sum())


# A session that resumed checks its code again this often, so a code replaced or revoked on
# another device (New code, Leave, the teacher's reset) stops working there within this time.
CODE_RECHECK_S = 30.0


def code_check_due(checked_at: float | None, now: float) -> bool:
    """Whether a session's student must be checked against the database again."""
    return checked_at is None or not 0 <= now - checked_at < CODE_RECHECK_S


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def as_bytes(image: np.ndarray) -> bytes:
    """A 28 x 28 image (floats in [0, 1] or uint8) as 784 bytes."""
    image = np.asarray(image)
    if image.shape != (28, 28):
        raise ClassError("a digit is 28 x 28 pixels")
    if image.dtype != np.uint8:
        image = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    return image.tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, np.uint8).reshape(28, 28)


def png_of(image: np.ndarray) -> bytes:
    """A 28 x 28 digit as a PNG (white ink on black, as MNIST)."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


class ClassWork:
    """One class in the store (``DEFAULT_CLASS`` unless named)."""

    def __init__(self, store: Store, class_id: str = DEFAULT_CLASS):
        self.store = store
        self.class_id = class_id

    def ensure(self) -> None:
        """Create the class if it does not exist (after a deletion, an empty one)."""
        if self.store.one("SELECT id FROM classes WHERE id = ?", (self.class_id,)) is None:
            self.store.execute(
                "INSERT INTO classes (id, created) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
                (self.class_id, time.time()),
            )

    # -- students ------------------------------------------------------------------------------

    def join(self, nickname: str, address: str | None = None) -> tuple[Student, str]:
        """A new student under ``nickname``; returns them and their resume token (shown once).
        The nickname is NFKC-normalised and must be one script's; its key is unique in the
        class by a database constraint (``nicknames``)."""
        nickname = nicknames.normalised(nickname)
        if (why := nicknames.problem(nickname)) is not None:
            raise ClassError(why)
        self.ensure()
        if address is not None and quotas.JOINS.full(address):
            raise QuotaExceeded(
                f"{quotas.JOINS.limit} joins from this network in the last "
                "minute: try again in a minute"
            )
        (students,) = self.store.one(
            "SELECT COUNT(*) FROM students WHERE class_id = ?", (self.class_id,)
        )
        if int(students) >= quotas.STUDENTS_PER_CLASS:
            raise QuotaExceeded(
                f"the class is full ({quotas.STUDENTS_PER_CLASS} students): ask your teacher"
            )
        token = secrets.token_urlsafe(12)
        now = time.time()
        try:
            row = self.store.one(
                "INSERT INTO students (class_id, nickname, nickname_key, token_hash, created, "
                "last_seen) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (self.class_id, nickname, nicknames.key(nickname), _token_hash(token), now, now),
            )
        except Conflict:
            raise ClassError(
                f"the nickname {nickname!r} is taken in this class: choose another, or resume "
                "with your code"
            ) from None
        if address is not None:
            quotas.JOINS.record(address)  # only joins that succeeded count
        return Student(int(row[0]), nickname), token

    def resume(self, token: str, now: float | None = None) -> Student | None:
        """The student whose resume token this is, in this class; None for an unknown token, a
        replaced or revoked one, or one not used for longer than the class keeps drawings."""
        if not isinstance(token, str) or not 8 <= len(token) <= 64:
            return None
        now = time.time() if now is None else now
        row = self.store.one(
            "SELECT s.id, s.nickname FROM students s JOIN classes c ON c.id = s.class_id "
            "WHERE s.class_id = ? AND s.token_hash = ? AND s.last_seen >= ? - c.retention_days "
            "* 86400",
            (self.class_id, _token_hash(token), now),
        )
        if row is None:
            return None
        with contextlib.suppress(StoreError):  # last seen is a statistic: a full disk must not
            self.touch(int(row[0]), now)  # turn a student away
        return Student(int(row[0]), row[1])

    def new_code(self, student_id: int) -> str:
        """A fresh resume code for a student of this class; the old one stops working at once."""
        token = secrets.token_urlsafe(12)
        rows = self.store.execute(
            "UPDATE students SET token_hash = ?, last_seen = ? WHERE id = ? AND class_id = ? "
            "RETURNING id",
            (_token_hash(token), time.time(), int(student_id), self.class_id),
        )
        if not rows:
            raise ClassError("that student is not in this class")
        return token

    def revoke_code(self, student_id: int) -> None:
        """The student's code stops working (Leave): their work stays with the class, and the
        teacher can give them a new code."""
        self.new_code(student_id)  # a code nobody is shown

    def remove_student(self, student_id: int) -> int:
        """A student and everything of theirs (drawings, challenge submissions, the code) leave
        the class for good; returns how many drawings went. (A nickname asked to be removed, or
        a student who left the school.)"""
        with self.store.transaction():
            rows = self.store.execute(
                "SELECT id FROM students WHERE id = ? AND class_id = ?",
                (int(student_id), self.class_id),
            )
            if not rows:
                raise ClassError("that student is not in this class")
            self.store.execute("DELETE FROM submissions WHERE student_id = ?", (int(student_id),))
            drawings = self.store.execute(
                "DELETE FROM drawings WHERE student_id = ? RETURNING id", (int(student_id),)
            )
            self.store.execute("DELETE FROM students WHERE id = ?", (int(student_id),))
        return len(drawings)

    def students(self) -> list[Student]:
        """Every student of the class, by nickname."""
        rows = self.store.execute(
            "SELECT id, nickname FROM students WHERE class_id = ? ORDER BY nickname_key, id",
            (self.class_id,),
        )
        return [Student(int(i), n) for i, n in rows]

    def touch(self, student_id: int, now: float | None = None) -> None:
        """The student was here (``now``, default the present): their code stays valid."""
        now = time.time() if now is None else now
        self.store.execute("UPDATE students SET last_seen = ? WHERE id = ?", (now, student_id))

    # -- drawings ------------------------------------------------------------------------------

    def save_drawing(
        self,
        student_id: int,
        image: np.ndarray,
        predicted: int,
        confidence: float,
        model_sha256: str,
        source: str = "drawing",
        png: bytes | None = None,
        drawing_id: int | None = None,
    ) -> int:
        """Record the student's current digit and the network's answer; with ``drawing_id``,
        update that drawing (another stroke of the same drawing). Returns its id."""
        now = time.time()
        data = as_bytes(image)
        if drawing_id is not None:
            updated = self.store.execute(
                "UPDATE drawings SET image = ?, png = ?, predicted = ?, confidence = ?, "
                "updated = ?, model_sha256 = ? WHERE id = ? AND student_id = ? RETURNING id",
                (
                    data,
                    png,
                    int(predicted),
                    float(confidence),
                    now,
                    model_sha256,
                    drawing_id,
                    student_id,
                ),
            )
            if updated:
                return drawing_id
        with self.store.transaction():  # the count and the insert, one student at a time
            self._one_at_a_time(student_id)
            self._check_drawing_quota(student_id, now)
            row = self._insert_drawing(
                student_id, now, source, png, data, predicted, confidence, model_sha256
            )
        return int(row[0])

    def _insert_drawing(
        self, student_id, now, source, png, data, predicted, confidence, model_sha256
    ) -> tuple:
        return self.store.one(
            "INSERT INTO drawings (class_id, student_id, created, updated, source, png, image, "
            "predicted, confidence, model_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            (
                self.class_id,
                student_id,
                now,
                now,
                source,
                png,
                data,
                int(predicted),
                float(confidence),
                model_sha256,
            ),
        )

    def _one_at_a_time(self, student_id: int) -> None:
        """Inside a transaction: a quota's count and insert for this student run one at a time.
        (SQLite's BEGIN IMMEDIATE already runs every writer one at a time; PostgreSQL locks the
        student's row.)"""
        if self.store.postgres:
            self.store.execute("SELECT id FROM students WHERE id = ? FOR UPDATE", (student_id,))

    def set_label(self, student_id: int, drawing_id: int, label: int | None) -> None:
        """What the student says the drawing is (None: not said)."""
        if label is not None and not 0 <= int(label) <= 9:
            raise ClassError("a label is a digit from 0 to 9")
        self.store.execute(
            "UPDATE drawings SET label = ? WHERE id = ? AND student_id = ?",
            (None if label is None else int(label), drawing_id, student_id),
        )

    def set_shared(self, student_id: int, drawing_id: int, shared: bool) -> None:
        """Whether the class (the teacher's galleries and pushes) may see this drawing."""
        self.store.execute(
            "UPDATE drawings SET shared = ? WHERE id = ? AND student_id = ?",
            (1 if shared else 0, drawing_id, student_id),
        )

    _DRAWING = (
        "SELECT d.id, s.nickname, d.created, d.source, d.image, d.predicted, d.confidence, "
        "d.label, d.shared, d.png FROM drawings d JOIN students s ON s.id = d.student_id "
    )

    def _drawings(self, where: str, params: tuple, limit: int = 500) -> list[SavedDrawing]:
        rows = self.store.execute(
            self._DRAWING + where + f" ORDER BY d.created DESC LIMIT {int(limit)}", params
        )
        return [
            SavedDrawing(
                int(r[0]),
                r[1],
                float(r[2]),
                r[3],
                from_bytes(r[4]),
                int(r[5]),
                float(r[6]),
                None if r[7] is None else int(r[7]),
                bool(r[8]),
                r[9],
            )
            for r in rows
        ]

    def student_drawings(self, student_id: int, limit: int = 500) -> list[SavedDrawing]:
        """The student's own drawings, newest first (the newest ``limit``)."""
        return self._drawings("WHERE d.student_id = ?", (student_id,), limit)

    def all_student_drawings(self, student_id: int) -> list[SavedDrawing]:
        """Every drawing of the student (for their downloads), newest first."""
        return self._drawings("WHERE d.student_id = ?", (student_id,), limit=1_000_000)

    def count_student_drawings(self, student_id: int) -> int:
        """How many drawings the student has saved."""
        return int(
            self.store.one("SELECT COUNT(*) FROM drawings WHERE student_id = ?", (student_id,))[0]
        )

    def shared_drawings(
        self, label: int | None = None, predicted: int | None = None, limit: int = 200
    ) -> list[SavedDrawing]:
        """Drawings their students shared, newest first; only those labelled ``label`` and read
        as ``predicted`` when given."""
        where, params = "WHERE d.class_id = ? AND d.shared = 1", [self.class_id]
        if label is not None:
            where, params = where + " AND d.label = ?", [*params, int(label)]
        if predicted is not None:
            where, params = where + " AND d.predicted = ?", [*params, int(predicted)]
        return self._drawings(where, tuple(params), limit)

    def misreads(self, limit: int = 48) -> list[SavedDrawing]:
        """Shared drawings whose label the network did not read."""
        return self._drawings(
            "WHERE d.class_id = ? AND d.shared = 1 AND d.label IS NOT NULL "
            "AND d.label <> d.predicted",
            (self.class_id,),
            limit,
        )

    def labelled(self) -> tuple[np.ndarray, np.ndarray]:
        """Every labelled drawing of the class (shared or not, for the class model): images
        (N, 28, 28) uint8 and labels, oldest first."""
        rows = self.store.execute(
            "SELECT image, label FROM drawings WHERE class_id = ? AND label IS NOT NULL "
            "ORDER BY id",
            (self.class_id,),
        )
        if not rows:
            return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
        return np.stack([from_bytes(r[0]) for r in rows]), np.array([int(r[1]) for r in rows])

    # -- the teacher's view --------------------------------------------------------------------

    def stats(self, now: float | None = None) -> dict:
        """Students active now, drawings per minute lately, and totals."""
        now = time.time() if now is None else now
        active = self.store.one(
            "SELECT COUNT(*) FROM students WHERE class_id = ? AND last_seen > ?",
            (self.class_id, now - ACTIVE_SECONDS),
        )[0]
        students = self.store.one(
            "SELECT COUNT(*) FROM students WHERE class_id = ?", (self.class_id,)
        )[0]
        recent, total, labelled = self.store.one(
            "SELECT SUM(CASE WHEN created > ? THEN 1 ELSE 0 END), COUNT(*), COUNT(label) "
            "FROM drawings WHERE class_id = ?",
            (now - RATE_WINDOW_SECONDS, self.class_id),
        )
        return {
            "active_students": int(active),
            "students": int(students),
            "drawings_per_minute": float(recent or 0) / (RATE_WINDOW_SECONDS / 60),
            "drawings": int(total),
            "labelled": int(labelled),
        }

    def confusion(self) -> np.ndarray:
        """(10, 10) counts of labelled drawings: what they drew (row) against what the network
        read (column)."""
        matrix = np.zeros((10, 10), np.int64)
        for label, predicted, count in self.store.execute(
            "SELECT label, predicted, COUNT(*) FROM drawings WHERE class_id = ? AND label IS NOT "
            "NULL GROUP BY label, predicted",
            (self.class_id,),
        ):
            matrix[int(label), int(predicted)] = int(count)
        return matrix

    def leaderboard_names(self) -> dict[int, str]:
        return dict(
            self.store.execute(
                "SELECT id, nickname FROM students WHERE class_id = ?", (self.class_id,)
            )
        )

    # -- pushing a digit to everyone -----------------------------------------------------------

    def push(self, image: np.ndarray, label: int | None, text: str) -> int:
        """Make ``image`` every student's current digit; returns the push's id."""
        self.ensure()
        row = self.store.one(
            "UPDATE classes SET push_id = push_id + 1, push_image = ?, push_label = ?, "
            "push_text = ?, push_at = ? WHERE id = ? RETURNING push_id",
            (as_bytes(image), label, text[:200], time.time(), self.class_id),
        )
        return int(row[0])

    def current_push_id(self) -> int:
        """The id of what the teacher pushed last (0: nothing): what the pages' mirror needs,
        without the image."""
        with self.store.quick():  # asked ten times a second: the first to notice a hang
            row = self.store.one("SELECT push_id FROM classes WHERE id = ?", (self.class_id,))
        return int(row[0]) if row and row[0] else 0

    def current_push(self) -> Push:
        """What the teacher pushed last (id 0: nothing)."""
        row = self.store.one(
            "SELECT push_id, push_image, push_label, push_text, push_at FROM classes WHERE id = ?",
            (self.class_id,),
        )
        if row is None or not row[0]:
            return Push(0, None, None, "")
        at = None if row[4] is None else float(row[4])
        return Push(int(row[0]), from_bytes(row[1]), row[2], row[3] or "", at)

    # -- challenges ----------------------------------------------------------------------------

    def start_challenge(
        self, kind: str, image: np.ndarray, label: int, target: int | None, model_sha256: str
    ) -> int:
        """A new challenge (the previous one ends)."""
        if kind not in ("fool", "target") or (kind == "target") != (target is not None):
            raise ClassError("a challenge is 'fool' (no target) or 'target' (a target digit)")
        self.ensure()
        with self.store.transaction():
            self.store.execute(
                "UPDATE challenges SET active = 0 WHERE class_id = ?", (self.class_id,)
            )
            row = self.store.one(
                "INSERT INTO challenges (class_id, kind, image, label, target, model_sha256, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    self.class_id,
                    kind,
                    as_bytes(image),
                    int(label),
                    target,
                    model_sha256,
                    time.time(),
                ),
            )
        return int(row[0])

    def stop_challenge(self) -> None:
        self.store.execute("UPDATE challenges SET active = 0 WHERE class_id = ?", (self.class_id,))

    def active_challenge(self) -> Challenge | None:
        row = self.store.one(
            "SELECT id, kind, image, label, target, model_sha256 FROM challenges "
            "WHERE class_id = ? AND active = 1 ORDER BY id DESC LIMIT 1",
            (self.class_id,),
        )
        if row is None:
            return None
        return Challenge(int(row[0]), row[1], from_bytes(row[2]), int(row[3]), row[4], row[5])

    def _check_drawing_quota(self, student_id: int, now: float) -> None:
        recent, total = self.store.one(
            "SELECT COUNT(*) FILTER (WHERE created > ?), COUNT(*) FROM drawings "
            "WHERE student_id = ?",
            (now - 60.0, student_id),
        )
        if int(total) >= quotas.DRAWINGS_PER_STUDENT:
            raise QuotaExceeded(
                f"you have saved {quotas.DRAWINGS_PER_STUDENT:,} drawings, as many as a student "
                "may keep: the answers go on, without saving"
            )
        if int(recent) >= quotas.DRAWINGS_PER_MINUTE:
            raise QuotaExceeded(
                f"{quotas.DRAWINGS_PER_MINUTE} new drawings in a minute is as many as are saved: "
                "the answers go on, and saving resumes within a minute"
            )

    def record_submission(
        self, challenge_id: int, student_id: int, score: float, image: np.ndarray
    ) -> None:
        """Keep a submission the server has verified (see ``mnist_viz.classroom.challenges``)."""
        with self.store.transaction():  # the count and the insert, one student at a time
            self._one_at_a_time(student_id)
            (count,) = self.store.one(
                "SELECT COUNT(*) FROM submissions WHERE challenge_id = ? AND student_id = ?",
                (challenge_id, student_id),
            )
            if int(count) >= quotas.SUBMISSIONS_PER_CHALLENGE:
                raise QuotaExceeded(
                    f"{quotas.SUBMISSIONS_PER_CHALLENGE} submissions to this challenge is the "
                    "most one student may make: your best one counts"
                )
            self.store.execute(
                "INSERT INTO submissions (challenge_id, student_id, score, image, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (challenge_id, student_id, float(score), as_bytes(image), time.time()),
            )

    def leaderboard(self, challenge_id: int, limit: int = 10) -> list[tuple[str, float]]:
        """(nickname, best score), best (smallest) first."""
        rows = self.store.execute(
            "SELECT s.nickname, MIN(x.score) FROM submissions x JOIN students s "
            "ON s.id = x.student_id WHERE x.challenge_id = ? GROUP BY s.nickname "
            f"ORDER BY MIN(x.score), s.nickname LIMIT {int(limit)}",
            (challenge_id,),
        )
        return [(r[0], float(r[1])) for r in rows]

    # -- settings, export and deletion ---------------------------------------------------------

    def settings(self) -> dict:
        self.ensure()
        retention, served = self.store.one(
            "SELECT retention_days, served_model FROM classes WHERE id = ?", (self.class_id,)
        )
        return {"retention_days": int(retention), "served_model": served}

    def set_retention(self, days: int) -> None:
        if not 1 <= int(days) <= MAX_RETENTION_DAYS:
            raise ClassError(f"keep drawings for 1 to {MAX_RETENTION_DAYS} days")
        self.ensure()
        self.store.execute(
            "UPDATE classes SET retention_days = ? WHERE id = ?", (int(days), self.class_id)
        )

    def set_served_model(self, name: str | None) -> None:
        """The model every student of the class sees (None: the app's default)."""
        self.ensure()
        self.store.execute(
            "UPDATE classes SET served_model = ? WHERE id = ?", (name, self.class_id)
        )

    def purge(self, now: float | None = None) -> int:
        """Delete what is older than the retention: drawings, challenge submissions, and students
        not seen since who have no drawing left (their codes had expired). Returns how many
        drawings went."""
        now = time.time() if now is None else now
        cutoff = now - self.settings()["retention_days"] * 86400
        with self.store.transaction():
            rows = self.store.execute(
                "DELETE FROM drawings WHERE class_id = ? AND created < ? RETURNING id",
                (self.class_id, cutoff),
            )
            self.store.execute(
                "DELETE FROM submissions WHERE created < ? AND challenge_id IN "
                "(SELECT id FROM challenges WHERE class_id = ?)",
                (cutoff, self.class_id),
            )
            self.store.execute(
                "DELETE FROM students WHERE class_id = ? AND last_seen < ? AND NOT EXISTS "
                "(SELECT 1 FROM drawings d WHERE d.student_id = students.id)",
                (self.class_id, cutoff),
            )
        return len(rows)

    def delete(self) -> None:
        """The class and everything in it: students, drawings, challenges, submissions."""
        with self.store.transaction():
            for table in ("submissions", "challenges", "drawings", "students"):
                if table == "submissions":
                    self.store.execute(
                        "DELETE FROM submissions WHERE challenge_id IN "
                        "(SELECT id FROM challenges WHERE class_id = ?)",
                        (self.class_id,),
                    )
                else:
                    self.store.execute(f"DELETE FROM {table} WHERE class_id = ?", (self.class_id,))
            self.store.execute("DELETE FROM classes WHERE id = ?", (self.class_id,))

    @staticmethod
    def drawings_csv(drawings: list[SavedDrawing]) -> bytes:
        """One row per drawing: id, nickname, time (UTC), source, label, answer, confidence,
        shared, and the PNG's name in the matching ZIP."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                "id",
                "nickname",
                "created_utc",
                "source",
                "label",
                "predicted",
                "confidence",
                "shared",
                "png",
            ]
        )
        for d in drawings:
            writer.writerow(
                [
                    d.id,
                    d.student,
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(d.created)),
                    d.source,
                    "" if d.label is None else d.label,
                    d.predicted,
                    f"{d.confidence:.4f}",
                    int(d.shared),
                    f"{d.id}.png",
                ]
            )
        return buffer.getvalue().encode("utf-8")

    @staticmethod
    def drawings_zip(drawings: list[SavedDrawing]) -> bytes:
        """A ZIP of each drawing's 28 x 28 PNG (``<id>.png``) and the CSV."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("drawings.csv", ClassWork.drawings_csv(drawings))
            for d in drawings:
                archive.writestr(f"{d.id}.png", png_of(d.image))
        return buffer.getvalue()

    def all_drawings(self) -> list[SavedDrawing]:
        """Every drawing of the class (for the teacher's export), newest first."""
        return self._drawings("WHERE d.class_id = ?", (self.class_id,), limit=1_000_000)
