"""The class as a whole, over one store: ``ClassWork`` is every part of the class's records
together (each part in its own module, by what it serves), plus the class's settings, retention
and deletion.

- ``roster``: students, nicknames and resume codes;
- ``drawings``: saved drawings, labels, sharing, the teacher's counts;
- ``pushes``: what the teacher pushes to everyone;
- ``challenges``: challenges, verified submissions, the leaderboard;
- ``export``: drawings as CSV and ZIP files.

Drawings older than the class's retention are purged; everything of a class is deleted with it.
"""

from __future__ import annotations

import time

from mnist_viz.classroom.challenges import Challenges
from mnist_viz.classroom.drawings import Drawings
from mnist_viz.classroom.export import Export
from mnist_viz.classroom.pushes import Pushes
from mnist_viz.classroom.records import ClassError
from mnist_viz.classroom.roster import Roster

MAX_RETENTION_DAYS = 365


class ClassWork(Roster, Drawings, Pushes, Challenges, Export):
    """One class in the store (``records.DEFAULT_CLASS`` unless named), all its records."""

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
