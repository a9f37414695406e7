"""Challenges: the teacher starts one, students submit, the server checks each submission
(never trusting what the browser claims) and keeps a leaderboard.

Three kinds of challenge on one digit (``KINDS``):
- "fool": change the network's answer with the smallest L-infinity change (the lab's epsilon);
- "target": make the network say a chosen digit with the smallest L2 change;
- "pixels": make the network say a chosen digit changing the fewest pixels (L0, JSMA's measure).
The server re-runs the model on the submitted image, measures the change itself, and refuses a
submission whose answer is not what the challenge asks, or whose claimed size is not the size it
measures (a forged epsilon). The score kept is the server's own measurement.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mnist_viz.classroom import quotas
from mnist_viz.classroom.records import (
    ClassError,
    ClassRecords,
    QuotaExceeded,
    as_bytes,
    from_bytes,
)
from mnist_viz.core.errors import MnistVizError

CLAIM_TOLERANCE = 0.002  # the lab's images are stored as 8-bit pixels: 1/255 = 0.004 apart
CHANGED = 0.5 / 255  # a pixel counts as changed when it moved by at least half a grey level


@dataclass(frozen=True)
class ChallengeKind:
    """One kind of challenge: how the teacher's form names it, what the students aim at, and the
    measure of the change (the leaderboard's column; smallest wins)."""

    title: str
    measure: str
    how: str  # how the aim is scored, in words
    claim: str  # a submission's size in words, a format of its value
    targeted: bool  # whether the network must say a chosen digit (else: anything but the label)

    def aim(self, target: int | None) -> str:
        """What the students are asked, in words."""
        if not self.targeted:
            return f"change the network's answer {self.how}"
        return f"make it say {target} {self.how}"

    def claim_text(self, value: float) -> str:
        """A submission's size in words: "epsilon 0.10", "L2 change 1.23", "12 pixels changed"."""
        return self.claim.format(value)


KINDS = {
    "fool": ChallengeKind(
        "Fool the network on this digit with the smallest epsilon (L-infinity change)",
        "epsilon",
        "with the smallest epsilon",
        "epsilon {:.2f}",
        targeted=False,
    ),
    "target": ChallengeKind(
        "Make it say a digit with the smallest L2 change",
        "L2 change",
        "with the smallest L2 change",
        "L2 change {:.2f}",
        targeted=True,
    ),
    "pixels": ChallengeKind(
        "Make it say a digit changing the fewest pixels (JSMA's measure)",
        "pixels changed",
        "changing the fewest pixels",
        "{:.0f} pixels changed",  # a count: claimed and measured are whole numbers
        targeted=True,
    ),
}


def claimed_size(kind: str, epsilon: float, l2: float, pixels: int) -> float:
    """What a submission claims by ``kind``'s measure, from the lab's numbers for the attack in
    view (the server measures it again: ``verify``)."""
    return {"fool": epsilon, "target": l2, "pixels": float(pixels)}[kind]


@dataclass(frozen=True)
class Challenge:
    id: int
    kind: str  # a key of KINDS
    image: np.ndarray  # (28, 28) uint8
    label: int
    target: int | None
    model_sha256: str

    def is_on(self, image: np.ndarray) -> bool:
        """Whether ``image`` (uint8, 28 x 28) is this challenge's digit."""
        return np.array_equal(np.asarray(image), self.image)


class Challenges(ClassRecords):
    """The class's challenges, their verified submissions and the leaderboard."""

    def start_challenge(
        self, kind: str, image: np.ndarray, label: int, target: int | None, model_sha256: str
    ) -> int:
        """A new challenge (the previous one ends)."""
        if kind not in KINDS or KINDS[kind].targeted != (target is not None):
            raise ClassError(
                "a challenge is 'fool' (no target), or 'target' or 'pixels' (a target digit)"
            )
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

    def record_submission(
        self, challenge_id: int, student_id: int, score: float, image: np.ndarray
    ) -> None:
        """Keep a submission the server has verified (``verify``)."""
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

    def leaderboard_names(self) -> dict[int, str]:
        return dict(
            self.store.execute(
                "SELECT id, nickname FROM students WHERE class_id = ?", (self.class_id,)
            )
        )


class ChallengeRejected(MnistVizError):
    """A submission the server cannot confirm; the message says why."""


def change_size(challenge: Challenge, image: np.ndarray) -> float:
    """How big the change is, by the challenge's measure: L-infinity for "fool", L2 for
    "target", the number of pixels changed (by half a grey level or more) for "pixels", on
    pixels in [0, 1]."""
    original = challenge.image.astype(np.float64) / 255.0
    difference = np.asarray(image, np.float64) - original
    if challenge.kind == "fool":
        return float(np.max(np.abs(difference)))
    if challenge.kind == "pixels":
        return float(np.count_nonzero(np.abs(difference) >= CHANGED))
    return float(np.sqrt(np.sum(difference**2)))


def verify(
    challenge: Challenge, image: np.ndarray, claimed: float, model, model_sha256: str
) -> float:
    """The submission's score, measured here; ``ChallengeRejected`` when the model does not give
    the answer the challenge asks for, or the claimed size is not the measured one."""
    image = np.asarray(image, np.float64)
    if image.shape != (28, 28) or not np.all(np.isfinite(image)):
        raise ChallengeRejected("a submission is one 28 x 28 digit")
    if image.min() < 0.0 or image.max() > 1.0:
        raise ChallengeRejected("pixels are between 0 and 1")
    if model_sha256 != challenge.model_sha256:
        raise ChallengeRejected("the challenge is on another network than the one you attacked")
    # Imported here: the records above serve tools that never load a network (the database's
    # benches, retention), and TensorFlow costs them seconds to import.
    from mnist_viz.core.model import predict_proba

    answer = int(predict_proba(model, image)[0].argmax())
    targeted = KINDS[challenge.kind].targeted
    if not targeted and answer == challenge.label:
        raise ChallengeRejected(f"the network still reads it as {challenge.label}")
    if targeted and answer != challenge.target:
        raise ChallengeRejected(f"the network reads it as {answer}, not {challenge.target}")
    measured = change_size(challenge, image)
    # A claim may be larger than the change (clipped pixels move less than epsilon), never smaller.
    if not np.isfinite(claimed) or measured > float(claimed) + CLAIM_TOLERANCE + 1e-9:
        raise ChallengeRejected(
            f"the change you claim ({float(claimed):.3f}) is smaller than the one the server "
            f"measures ({measured:.3f})"
        )
    return measured
