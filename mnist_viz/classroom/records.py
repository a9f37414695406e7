"""What the class's records are made of, and the base every part of ``ClassWork`` shares: one
class in one store. Privacy by design: a student is a nickname (no e-mail, no real name) and a
random resume token (only its SHA-256 is stored); everything of a class goes with it."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mnist_viz.classroom.store import Store
from mnist_viz.core.errors import MnistVizError
from mnist_viz.view import render

DEFAULT_CLASS = "class"


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


def as_bytes(image: np.ndarray) -> bytes:
    """A 28 x 28 image (floats in [0, 1] or uint8) as 784 bytes."""
    image = np.asarray(image)
    if image.shape != (28, 28):
        raise ClassError("a digit is 28 x 28 pixels")
    return render.to_bytes(image).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, np.uint8).reshape(28, 28)


class ClassRecords:
    """One class in the store (``DEFAULT_CLASS`` unless named): what every part shares."""

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

    def _one_at_a_time(self, student_id: int) -> None:
        """Inside a transaction: a quota's count and insert for this student run one at a time.
        (SQLite's BEGIN IMMEDIATE already runs every writer one at a time; PostgreSQL locks the
        student's row.)"""
        if self.store.postgres:
            self.store.execute("SELECT id FROM students WHERE id = ? FOR UPDATE", (student_id,))
