"""What a teacher's push does to a student's session, as decisions the page only applies.

A push travels: the teacher's click writes it to the database; each server's mirror thread copies
its id to a static file; every student's page asks for that file and, on a new id, tells its
server (the follower's state value), whose callback takes the push. These functions hold the
session's part of it, over the session state (any mutable mapping, so tests use a dict):

- ``take``: a newer push becomes the current digit; the student's own digit is kept to go back
  to, and the push stays *pending* until a page run has surely shown it.
- ``needs_catch_up``: a push the follower reported whose callback never ran (a busy server can
  merge its request into another run) is taken on the next run.
- ``notice``: which notice the page shows: the pushed digit's, or "pushed while you were
  drawing" when a stroke replaced the push before it was seen.
- ``back_to_own`` and ``show_pending``: the notice's two buttons.

A new session does not jump to an old push, but takes one younger than a few seconds (one sent
in the moment of a reload or a replica restart): ``Push.seen_by_a_new_page``.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from enum import Enum

from mnist_viz.classroom.pending_push import PendingPush
from mnist_viz.inputs.digit import PUSHED, Digit

__all__ = [
    "HANDLED",
    "OWN",
    "PENDING",
    "SEEN",
    "Notice",
    "back_to_own",
    "is_pushed",
    "needs_catch_up",
    "notice",
    "seen_with",
    "show_pending",
    "take",
]

# The session state's keys.
SEEN = "push_seen"  # the push id this page last followed
HANDLED = "push_handled"  # the follower's last reported push id that was acted on
PENDING = "push_pending"  # (pushed digit, PendingPush) until the push has surely been seen
OWN = "own_digit"  # the student's own digit, kept under a push to go back to

State = MutableMapping[str, object]


class Notice(Enum):
    """The push notice a page run shows."""

    NONE = "none"
    WHILE_DRAWING = "while drawing"  # a stroke replaced the push before it was seen
    PUSHED = "pushed"  # the pushed digit is in view
    PUSHED_WITH_BACK = "pushed, with a way back"  # ... and the student's own digit is kept


def is_pushed(digit: Digit | None) -> bool:
    return digit is not None and digit.source == PUSHED


def _keep_own(state: State, current: Digit | None) -> None:
    if current is not None and not is_pushed(current):
        state[OWN] = current


def take(
    state: State,
    push_id: int,
    pushed: Digit | None,
    current: Digit | None,
    now: float,
    reported: object = None,
) -> Digit | None:
    """Push ``push_id`` (its digit ``pushed``; None when it has no image) was seen, with the
    follower's ``reported`` id: the new current digit, or None when nothing changes (the page
    follows this push already, or there is nothing to show)."""
    state[HANDLED] = reported
    if push_id == state.get(SEEN) or pushed is None:
        return None
    state[SEEN] = push_id
    state[PENDING] = (pushed, PendingPush(at=now))  # until surely seen: a stroke may come first
    _keep_own(state, current)
    return pushed


def needs_catch_up(state: State, reported: object) -> bool:
    """Whether the follower reported a push whose callback did not run (then it is marked
    handled, and the caller takes it). Not for a new session: it decides on its own first."""
    if SEEN not in state:
        return False
    if isinstance(reported, int) and reported != state.get(HANDLED):
        state[HANDLED] = reported
        return True
    return False


def notice(state: State, current: Digit | None, now: float) -> Notice:
    """The notice for this run; a pending push that was shown long enough is let go."""
    pending_entry = state.get(PENDING)
    pending = pending_entry[1] if pending_entry is not None else None
    if pending is not None and not is_pushed(current):
        if pending.needs_notice(now):
            pending.cut = True  # the notice stays until the student looks
            return Notice.WHILE_DRAWING
        state.pop(PENDING, None)  # it was on the page long enough; the student moved on
    if is_pushed(current):
        return Notice.PUSHED_WITH_BACK if OWN in state else Notice.PUSHED
    return Notice.NONE


def seen_with(state: State, drawn: Digit | None) -> None:
    """A page run drew ``drawn`` to the end: if it is the pushed digit, the push was seen."""
    pending_entry = state.get(PENDING)
    if pending_entry is not None and is_pushed(drawn):
        pending_entry[1].shown = True


def back_to_own(state: State) -> Digit | None:
    """ "Back to my own digit": the digit to show (the pending push counts as seen)."""
    state.pop(PENDING, None)
    return state.pop(OWN, None)


def show_pending(state: State, current: Digit | None) -> Digit | None:
    """ "Show it" on the while-drawing notice: the digit to show (the student's own is kept)."""
    pending_entry = state.pop(PENDING, None)
    if pending_entry is None:
        return current
    _keep_own(state, current)
    return pending_entry[0]
