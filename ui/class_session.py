"""The class in every page: the database, who this student is, saving their answers, their
labels and sharing, and following what the teacher pushes. The records are ``mnist_viz.classroom.classwork``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import streamlit as st
from streamlit.errors import StreamlitAPIException

from mnist_viz.classroom import push_follow
from mnist_viz.classroom.classwork import ClassWork
from mnist_viz.classroom.drawings import label_of
from mnist_viz.classroom.labelling import (
    OpenDrawing,
    drawing_to_update,
    label_target,
    open_after_clear,
)
from mnist_viz.classroom.push_follow import Notice
from mnist_viz.classroom.pushes import Push
from mnist_viz.classroom.records import ClassError, Student
from mnist_viz.classroom.retention import start_retention
from mnist_viz.classroom.roster import code_check_due
from mnist_viz.classroom.store import Store, StoreError, database_url
from mnist_viz.inputs.digit import DRAWING, UPLOAD, Digit, Verdict, from_push
from ui.components.code_keeper import keep_code_in_tab, kept_code
from ui.components.push import FOLLOWER, follow_pushes, start_mirror
from ui.digit import current_digit, set_digit
from ui.teacher import client_address

STUDENT, TOKEN = "class_student", "class_token"  # session state
OPEN_DRAWING = "class_drawing"  # session state: the OpenDrawing of the latest saved answer
TOKEN_PARAM = "student"  # the page address carries the resume code, so a reload keeps the student
# the session state's keys of the push follower (mnist_viz.classroom.push_follow)
PUSH_SEEN, OWN_DIGIT, PUSH_PENDING = push_follow.SEEN, push_follow.OWN, push_follow.PENDING
LABEL, SHARE = "class_label", "class_share"
# The key of a page's fragment that shows the current digit (the Draw page's answer), and of the
# sidebar's push notice: a push reruns just these two where the page has the first.
DIGIT_VIEW, PUSH_NOTICE = "digit_view", "push_notice"
RIGHT = "right"
LABEL_QUESTION = "Was it right? One tap, or tap what it was"
PROBLEM = "class_problem"  # session state: a sentence for the sidebar's join and resume forms
TAP_PROBLEM = "class_tap_problem"  # session state: a label or share that could not be saved
UNCHECKED = "class_unchecked"  # session state: the address's code could not be checked just now
NOTICE = "class_notice"  # session state: a sentence for the sidebar (left, new code, replaced)
UNCHECKED_CODE = "class_unchecked_code"  # session state: a code from the address, not checked yet
CODE_CHECKED = "class_code_checked"  # session state: when this session's code was last checked
LEFT = "class_left"  # session state: the student left here (the tab forgets its copy of the code)
state = st.session_state


@contextlib.contextmanager
def class_records(what: str) -> Iterator[None]:
    """Around a page's use of the class's records (or as a decorator): a database failure ends
    the block with a sentence saying what is unavailable, instead of an error box; what was
    saved before stays saved."""
    try:
        yield
    except StoreError as exc:
        st.warning(f"**{what} is not available right now.** {exc}.", icon=":material/database:")


_stores: dict[str, Store] = {}  # database URL -> its one store in this server process
_stores_lock = threading.Lock()


def _open_store() -> Store:
    """This process's store of the configured database (connects on first use; kept while the
    database is down). Not st.cache_resource: any browser can ask Streamlit to clear that cache,
    and each clearing would leave a store, its threads and its connections behind."""
    url = database_url()
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = Store(url)
        return store


def _store() -> Store:
    """The class's database, migrated; StoreError at once while it is down (its breaker)."""
    store = _open_store()
    store.ready()
    # The server's background work, started once per process by whichever run first opens the
    # database (after the schema is ready), not by any one page: the hourly purges, and the
    # mirror of the latest push id that every student's page asks for.
    start_retention(store)
    start_mirror(store, database_url(), ClassWork(store).class_id)
    return store


@st.cache_data(ttl=2.0, show_spinner=False)
def _served_model(class_id: str) -> str | None:
    return ClassWork(_store(), class_id).settings()["served_model"]


def served_by_class() -> str | None:
    """The model the teacher serves to the class (a class model), if any."""
    try:
        return _served_model(ClassWork(_store()).class_id)
    except StoreError:
        return None


def class_work() -> ClassWork | None:
    """The class's records; None, after a message, when the database cannot be used (the rest
    of the app works without it)."""
    try:
        work = ClassWork(_store())
        work.ensure()
        return work
    except StoreError as exc:
        st.error(f"**The class's records cannot be reached.** {exc}", icon=":material/database:")
        return None


def current_student(work: ClassWork | None) -> Student | None:
    """The student of this session: joined here, or resumed from the code in the address."""
    if work is None:
        return None
    now = time.time()
    student = state.get(STUDENT)
    if student is not None and not code_check_due(state.get(CODE_CHECKED), now):
        return student
    token = (
        state.get(TOKEN)
        if student is not None
        else st.query_params.get(TOKEN_PARAM) or state.get(UNCHECKED_CODE)
    )
    if not token:
        return None
    try:
        found = work.resume(token)
    except StoreError as exc:  # the code stays in the address: a later run finds them
        if student is not None:
            return student  # joined here and the database cannot say otherwise: still them
        state[UNCHECKED] = str(exc)
        return None
    state.pop(UNCHECKED, None)
    if found is None:  # replaced or revoked on another device, or expired
        state.pop(UNCHECKED_CODE, None)
        if student is not None:
            _forget_student()
            state[NOTICE] = (
                "Your code was replaced or withdrawn (New code, Leave, or your teacher), so this "
                "page no longer shows your work. Resume with your current code."
            )
        return None
    state[STUDENT], state[TOKEN], state[CODE_CHECKED] = found, token, now
    state.pop(UNCHECKED_CODE, None)
    return found


def keep_code_in_address() -> None:
    """Put the student's resume code back in the page's address: switching pages clears the
    address's parameters, and a reload after that would otherwise lose the student. A code that
    came in the address but could not be checked yet (the database busy or down in the first
    run after a reconnect) is kept too, so a page switch before the check cannot lose it."""
    in_address = st.query_params.get(TOKEN_PARAM)
    if state.get(STUDENT) is not None:
        token = state.get(TOKEN)
    else:
        token = state.get(UNCHECKED_CODE)
        if in_address and in_address != token:
            state[UNCHECKED_CODE] = token = in_address
    if token and in_address != token:
        st.query_params[TOKEN_PARAM] = token


def _join(work: ClassWork) -> None:
    try:
        student, token = work.join(state.get("class_nickname", ""), client_address())
    except (ClassError, StoreError) as exc:
        state[PROBLEM] = str(exc)
        return
    state[STUDENT], state[TOKEN], state[CODE_CHECKED] = student, token, time.time()
    st.query_params[TOKEN_PARAM] = token
    state.pop(PROBLEM, None)
    state.pop(LEFT, None)


def _resume(work: ClassWork) -> None:
    token = state.get("class_code", "").strip()
    try:
        student = work.resume(token)
    except StoreError as exc:
        state[PROBLEM] = f"Your code could not be checked just now ({exc}): try again in a moment."
        return
    if student is None:
        state[PROBLEM] = (
            "That code does not work: it belongs to nobody in this class, or it was replaced, "
            "withdrawn (Leave) or not used for longer than the class keeps drawings."
        )
        return
    state[STUDENT], state[TOKEN], state[CODE_CHECKED] = student, token, time.time()
    st.query_params[TOKEN_PARAM] = token
    state.pop(PROBLEM, None)
    state.pop(LEFT, None)


def _forget_student() -> None:
    for key in (STUDENT, TOKEN, OPEN_DRAWING, CODE_CHECKED, UNCHECKED_CODE):
        state.pop(key, None)
    st.query_params.pop(TOKEN_PARAM, None)


def _leave(work: ClassWork) -> None:
    """Leave: the code stops working everywhere (a projected or copied code is useless)."""
    student = state.get(STUDENT)
    try:
        if student is not None:
            work.revoke_code(student.id)
    except (ClassError, StoreError) as exc:
        state[NOTICE] = f"You could not leave just now ({exc}): try again in a moment."
        return
    _forget_student()
    state[LEFT] = True  # the tab forgets its copy of the code too
    state[NOTICE] = (
        "You left: your code no longer works. Your drawings stay with the class; your teacher "
        "can give you a new code."
    )


def _new_code(work: ClassWork) -> None:
    """Replace the code (one that was seen by others): the old one stops working everywhere."""
    student = state.get(STUDENT)
    if student is None:
        return
    try:
        token = work.new_code(student.id)
    except (ClassError, StoreError) as exc:
        state[NOTICE] = f"No new code just now ({exc}): try again in a moment."
        return
    state[TOKEN], state[CODE_CHECKED] = token, time.time()
    st.query_params[TOKEN_PARAM] = token
    state[NOTICE] = "Your new code is above; the old one no longer works."


def _take_kept_code() -> None:
    """The tab handed over the code it kept: check it in this run, and put it in the address."""
    code = kept_code()
    if code and state.get(STUDENT) is None and not st.query_params.get(TOKEN_PARAM):
        state[UNCHECKED_CODE] = code
        st.query_params[TOKEN_PARAM] = code


def _code_kept(why: str) -> str:
    return (
        f"Your class records cannot be reached just now ({why}). Your code is still in this "
        "page's address: you will be back as yourself once they can, without doing anything."
    )


def class_sidebar() -> None:
    """Join or resume (a nickname only), or who you are here; and follow the teacher's pushes."""
    keep_code_in_address()  # also here: AppTest runs the router only on a session's first run
    work = class_work()
    if work is None:
        if st.query_params.get(TOKEN_PARAM):
            with st.sidebar.expander("The class", icon=":material/groups:", expanded=True):
                st.warning(_code_kept("the class's database cannot be reached"))
        return
    student = current_student(work)
    keep_code_in_address()  # also at the start of every run (app.py); here for a join's run
    with st.sidebar.expander("The class", icon=":material/groups:", expanded=False):
        if student is None and state.get(UNCHECKED) and st.query_params.get(TOKEN_PARAM):
            st.warning(_code_kept(state[UNCHECKED]))
        elif student is None:
            st.caption(
                "Join under a **nickname** to keep your drawings and labels, and to take part in "
                "challenges. No e-mail, no real name: a nickname is all that is stored. Your "
                "drawings are shown to the class only if you share them."
            )
            with st.form("class_join", border=False):
                st.text_input("Nickname", key="class_nickname", max_chars=24)
                st.form_submit_button("Join", on_click=_join, args=(work,))
            with st.form("class_resume", border=False):
                st.text_input("Or your resume code", key="class_code", max_chars=64)
                st.form_submit_button("Resume", on_click=_resume, args=(work,))
            if problem := state.get(PROBLEM):
                st.error(problem)
            if notice := state.pop(NOTICE, None):
                st.info(notice)
        else:
            st.caption(f"You are **{student.nickname}** in this class.")
            st.caption(
                f"Your resume code: `{state.get(TOKEN, '')}`. Keep it to come back to your work "
                "on another device; this page's address carries it too. Anyone who sees it can "
                "be you: if it was shown to others, take a new one."
            )
            if notice := state.pop(NOTICE, None):
                st.info(notice)
            st.button("New code", on_click=_new_code, args=(work,), key="class_new_code")
            st.button(
                "Leave (your code stops working)", on_click=_leave, args=(work,), key="class_leave"
            )
    with st.sidebar:
        keep_code_in_tab(
            state.get(TOKEN) if student is not None else None,
            forget=state.get(LEFT, False),
            on_kept=_take_kept_code,
        )
        _follow_pushes(work)


# -- answers, labels and sharing ------------------------------------------------------------------


def forget_open_drawing() -> None:
    """The canvas was cleared, or holds another drawing: the next stroke starts a new saved
    drawing (an open upload stays open: ``open_after_clear``)."""
    if open_after_clear(state.get(OPEN_DRAWING)) is None:
        state.pop(OPEN_DRAWING, None)


def record_answer(
    work: ClassWork | None, digit: Digit, verdict: Verdict, model_sha256: str
) -> None:
    """Save the student's drawing or upload with the network's answer (once per version of the
    digit; later strokes of the same drawing update it) as the open drawing that the label
    panel labels."""
    student = current_student(work)
    if student is None or digit.source not in (DRAWING, UPLOAD):
        return
    opened: OpenDrawing | None = state.get(OPEN_DRAWING)
    if opened is not None and opened.key == digit.key:
        return
    updated = drawing_to_update(opened, digit.source)  # a stroke never overwrites an upload
    try:
        saved = work.save_drawing(
            student.id,
            digit.image,
            verdict.digit,
            verdict.confidence,
            model_sha256,
            source=digit.source,
            drawing_id=updated,
        )
    except (StoreError, ClassError) as exc:  # a database failure, or a quota reached
        st.warning(f"Your drawing could not be saved: {exc}.")
        return
    if saved != updated:  # a new drawing: its label and sharing start empty
        state[LABEL], state[SHARE] = None, False
    state[OPEN_DRAWING] = OpenDrawing(digit.key, saved, verdict.digit, digit.source)


def _set_label(work: ClassWork, student: Student, drawing_id: int, predicted: int) -> None:
    # drawing_id is the drawing whose answer showed the pills that were tapped: the label is
    # its, even when a Clear or a new stroke came in the same request (a busy server merges
    # them, and their callback runs first)
    try:
        work.set_label(student.id, drawing_id, label_of(state.get(LABEL), predicted, RIGHT))
    except StoreError as exc:
        state[LABEL] = None  # the pills show what is saved: nothing new
        state[TAP_PROBLEM] = f"Your label was not saved ({exc}): tap again in a moment."
    else:
        state.pop(TAP_PROBLEM, None)


def _set_shared(work: ClassWork, student: Student, drawing_id: int) -> None:
    try:
        work.set_shared(student.id, drawing_id, bool(state.get(SHARE)))
    except StoreError as exc:
        state[SHARE] = not state.get(SHARE)  # the toggle shows what is saved
        state[TAP_PROBLEM] = f"Sharing was not saved ({exc}): try again in a moment."
    else:
        state.pop(TAP_PROBLEM, None)


def label_panel(work: ClassWork | None, digit: Digit, verdict: Verdict) -> None:
    """One tap: was the answer right, or what was it? And whether to share this drawing.

    Part of the answer that it labels, not a fragment of its own: a fragment nested in the
    answer's fragment left its earlier panels on the page at every new answer (a student saw one
    per drawing, older ones keeping their old taps). A tap reruns the whole answer instead, about
    15 ms of server CPU. Under a pushed digit, the panel of the student's own drawing stays
    (``label_target``): a tap in the moment the push arrives still lands."""
    student = current_student(work)
    if student is None:
        return
    own = state.get(OWN_DIGIT)
    target = label_target(
        digit.key, digit.source, own.key if own is not None else None, state.get(OPEN_DRAWING)
    )
    if target is None:
        return
    drawing_id = target.drawing_id
    # "Right" means the answer on the page: the verdict in view (the served model may have
    # changed since the drawing was saved); under a push, the own drawing's answer as it showed
    predicted = target.predicted if target.under_push else verdict.digit
    question = (
        f"Your own drawing, kept under the push, was read as {target.predicted}: was it right? "
        "One tap, or tap what it was"
        if target.under_push
        else LABEL_QUESTION
    )
    st.pills(
        question,
        [RIGHT, *(str(d) for d in range(10))],
        key=LABEL,
        format_func=lambda o: "Right" if o == RIGHT else o,
        on_change=_set_label,
        args=(work, student, drawing_id, predicted),
    )
    st.toggle(
        "Share this drawing with the class",
        key=SHARE,
        on_change=_set_shared,
        args=(work, student, drawing_id),
        help="Only shared drawings appear in the teacher's galleries and can be pushed to "
        "everyone. You can download all of yours on My work.",
    )
    if problem := state.pop(TAP_PROBLEM, None):
        st.warning(problem, icon=":material/database:")


# -- following what the teacher pushes -------------------------------------------------------------


def rerun_fragments(*keys: str) -> None:
    """From a Draw-page callback: rerun these fragments, and the push notice too when a push is
    waiting to be shown (it came with a stroke: the notice says so)."""
    if state.get(PUSH_PENDING) is not None:
        # no notice on this page when the database is unreachable: then just the fragments
        with contextlib.suppress(StreamlitAPIException):
            st.rerun([*keys, PUSH_NOTICE])
    st.rerun(list(keys))


def _show_digit_change() -> None:
    """From a callback that changed the current digit: rerun what shows it. On a page with a
    ``DIGIT_VIEW`` fragment, that fragment and the notice (a push reaches 30 pages at once, and
    a whole page costs the server several times more); elsewhere, the whole page."""
    try:
        st.rerun([DIGIT_VIEW, PUSH_NOTICE])
    except StreamlitAPIException:  # this page has no such fragment
        st.rerun()


def _back_to_own() -> None:

    set_digit(push_follow.back_to_own(state))
    _show_digit_change()


def _show_pending() -> None:

    set_digit(push_follow.show_pending(state, current_digit()))
    _show_digit_change()


def _take_push(work: ClassWork, rerun: bool = True) -> None:
    """The page saw a newer push id: make that push the current digit (keeping the student's
    own to go back to); from the follower's callback, ``rerun`` what shows it."""

    try:
        push = work.current_push()
    except StoreError:
        return
    reported = (state.get(FOLLOWER) or {}).get("push")
    pushed = pushed_digit(push) if push.image is not None else None
    taken = push_follow.take(state, push.id, pushed, current_digit(), time.monotonic(), reported)
    if taken is None:
        return
    set_digit(taken)
    if rerun:
        _show_digit_change()


def _follow_pushes(work: ClassWork) -> None:
    if PUSH_SEEN not in state:  # a new session does not jump to an old push, but takes a new one
        try:
            push = work.current_push()
        except StoreError:
            return
        state[PUSH_SEEN] = push.seen_by_a_new_page(time.time())
        if state[PUSH_SEEN] != push.id:  # pushed just now: this page opened in its moment
            _take_push(work, rerun=False)
            st.rerun()  # the whole page, with the pushed digit
    follow_pushes(work.class_id, state[PUSH_SEEN], lambda: _take_push(work))
    catch_up_on_push(work)
    _push_notice()


def catch_up_on_push(work: ClassWork | None) -> None:
    """Take a push that the follower reported but whose callback did not run. (Its id is in the
    follower's state, which the browser sends with every request; under load a request can be
    merged into another run, and then its callback may never run.) Cheap when nothing is new."""
    if work is None or PUSH_SEEN not in state:  # a new session: _follow_pushes decides first
        return
    if push_follow.needs_catch_up(state, (state.get(FOLLOWER) or {}).get("push")):
        _take_push(work, rerun=False)


@st.fragment(key=PUSH_NOTICE)
def _push_notice() -> None:

    digit = current_digit()
    shown = push_follow.notice(state, digit, time.monotonic())
    if shown is Notice.WHILE_DRAWING:
        # a stroke of the student's own drawing came with the push: theirs is not taken away,
        # and the notice stays until they look
        st.info(
            "The teacher pushed a digit to everyone while you were drawing.",
            icon=":material/campaign:",
        )
        st.button("Show it", on_click=_show_pending, key="push_show")
    elif shown in (Notice.PUSHED, Notice.PUSHED_WITH_BACK):
        st.info(
            f"The teacher pushed this digit to everyone ({digit.description}).",
            icon=":material/campaign:",
        )
        push_seen_with(digit)
        if shown is Notice.PUSHED_WITH_BACK:
            st.button("Back to my own digit", on_click=_back_to_own, key="push_back")


def push_seen_with(digit: Digit | None) -> None:
    """A page run has drawn ``digit`` to the end: if it is the pushed digit, the push has been
    seen. (Called after the drawing, not before: a stroke can cut a run short at any element,
    and then the student saw nothing of the push.)"""
    push_follow.seen_with(state, digit)


def pushed_digit(push: Push) -> Digit:
    """The pushed image as the current digit (its label, if the teacher gave one)."""
    return from_push(push.image, push.label, push.text)
