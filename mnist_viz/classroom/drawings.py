"""The students' drawings and their labels: saving an answer (one row per drawing, updated
stroke by stroke), the label a tap gives, sharing, the galleries' queries, and the teacher's
counts (activity, the class's confusion matrix)."""

from __future__ import annotations

import time

import numpy as np

from mnist_viz.classroom import quotas
from mnist_viz.classroom.records import (
    ClassError,
    ClassRecords,
    QuotaExceeded,
    SavedDrawing,
    as_bytes,
    from_bytes,
)

ACTIVE_SECONDS = 5 * 60.0  # a student seen within this is active


RATE_WINDOW_SECONDS = 5 * 60.0  # drawings per minute are counted over this


def label_of(choice: str | None, predicted: int, right: str) -> int | None:
    """The label a tap gives: ``right`` (the network was right) labels the drawing with the
    predicted digit, a digit with itself, no choice with nothing."""
    if choice is None:
        return None
    return int(predicted) if choice == right else int(choice)


def read_right(matrix: np.ndarray) -> tuple[int, int]:
    """From a confusion matrix: how many were read right, of how many."""
    return int(np.trace(matrix)), int(matrix.sum())


class Drawings(ClassRecords):
    """The class's saved drawings."""

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

    def all_drawings(self) -> list[SavedDrawing]:
        """Every drawing of the class (for the teacher's export), newest first."""
        return self._drawings("WHERE d.class_id = ?", (self.class_id,), limit=1_000_000)

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
