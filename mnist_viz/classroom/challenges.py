"""Checking a challenge submission on the server, never trusting what the browser claims.

Two kinds of challenge on one digit:
- "fool": change the network's answer with the smallest L-infinity change (the lab's epsilon);
- "target": make the network say a chosen digit with the smallest L2 change.
The server re-runs the model on the submitted image, measures the change itself, and refuses a
submission whose answer is not what the challenge asks, or whose claimed size is not the size it
measures (a forged epsilon). The score kept is the server's own measurement.
"""

from __future__ import annotations

import numpy as np

from mnist_viz.classroom.classwork import Challenge
from mnist_viz.core.errors import MnistVizError
from mnist_viz.core.model import predict_proba

CLAIM_TOLERANCE = 0.002  # the lab's images are stored as 8-bit pixels: 1/255 = 0.004 apart


class ChallengeRejected(MnistVizError):
    """A submission the server cannot confirm; the message says why."""


def change_size(challenge: Challenge, image: np.ndarray) -> float:
    """How big the change is, by the challenge's measure: L-infinity for "fool", L2 for
    "target", on pixels in [0, 1]."""
    original = challenge.image.astype(np.float64) / 255.0
    difference = np.asarray(image, np.float64) - original
    if challenge.kind == "fool":
        return float(np.max(np.abs(difference)))
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
    answer = int(predict_proba(model, image)[0].argmax())
    if challenge.kind == "fool" and answer == challenge.label:
        raise ChallengeRejected(f"the network still reads it as {challenge.label}")
    if challenge.kind == "target" and answer != challenge.target:
        raise ChallengeRejected(f"the network reads it as {answer}, not {challenge.target}")
    measured = change_size(challenge, image)
    # A claim may be larger than the change (clipped pixels move less than epsilon), never smaller.
    if not np.isfinite(claimed) or measured > float(claimed) + CLAIM_TOLERANCE + 1e-9:
        raise ChallengeRejected(
            f"the change you claim ({float(claimed):.3f}) is smaller than the one the server "
            f"measures ({measured:.3f})"
        )
    return measured
