"""A teacher's push that a student's own stroke replaced before they saw it.

A push makes the pushed digit the student's current digit. A stroke that comes with it, or soon
after, replaces it again, and a busy server may send only the later of the two answers: the
student never saw the pushed digit. Their page then says a digit was pushed "while you were
drawing", with a button to show it. The notice goes once the student has seen the push:
its answer was on their page and they drew on after the grace time, or they looked.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GRACE_S", "PendingPush"]

# A stroke this soon after a push may have replaced the pushed digit before the page showed it.
GRACE_S = 3.0


@dataclass
class PendingPush:
    """A push taken at ``at`` (monotonic seconds), until the student has surely seen it."""

    at: float
    shown: bool = False  # a page run drew the pushed digit's answer and notice
    cut: bool = False  # a stroke replaced it: the "while you were drawing" notice is up

    def needs_notice(self, now: float) -> bool:
        """With the student's own digit in view: whether to say a push came while they drew.
        Yes once it has said so (until they look), when the pushed digit was never shown (a
        run that would have shown it was cut short by a stroke: the push is not lost, however
        late), and within the grace time; no when it was shown and they drew on later."""
        return self.cut or not self.shown or now - self.at <= GRACE_S
