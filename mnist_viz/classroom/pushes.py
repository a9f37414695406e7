"""What the teacher pushes to everyone: the push itself (an image, its label and a line of
text, with an id that grows), the id the pages' mirror reads, and how often pages ask for it."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from mnist_viz.classroom.records import ClassRecords, as_bytes, from_bytes

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


class Pushes(ClassRecords):
    """The teacher's pushes to the class."""

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
