"""The class's students: joining under a nickname, resuming with a code, new codes, leaving,
and the teacher removing a student with everything of theirs."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time

from mnist_viz.classroom import nicknames, quotas
from mnist_viz.classroom.records import ClassError, ClassRecords, QuotaExceeded, Student
from mnist_viz.classroom.store import Conflict, StoreError

# A session that resumed checks its code again this often, so a code replaced or revoked on
# another device (New code, Leave, the teacher's reset) stops working there within this time.
CODE_RECHECK_S = 30.0


def code_check_due(checked_at: float | None, now: float) -> bool:
    """Whether a session's student must be checked against the database again."""
    return checked_at is None or not 0 <= now - checked_at < CODE_RECHECK_S


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Roster(ClassRecords):
    """Who is in the class."""

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
