"""The class view's panels (challenges, our handwriting vs MNIST, the class model) and the
adversarial lab's challenge submission."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_viz.classroom.challenges import KINDS, ChallengeRejected, claimed_size, verify
from mnist_viz.classroom.class_model import (
    CHECK_DIGITS,
    MIN_DRAWINGS,
    fine_tune,
    mnist_check_digits,
)
from mnist_viz.classroom.classwork import ClassWork
from mnist_viz.classroom.records import ClassError
from mnist_viz.core.cache import CachedModel, ModelCache, architecture_of
from mnist_viz.core.errors import ModelCacheError
from mnist_viz.core.jobs import SHARED
from mnist_viz.core.model import evaluate
from mnist_viz.inputs import style
from mnist_viz.inputs.digit import Digit, random_test_digit
from mnist_viz.view import render
from ui.class_session import class_records, current_student
from ui.jobs import COMPUTE, follow_job, queue
from ui.models import get_data
from ui.results import get_style_reference

REFRESH_SECONDS = 3.0
state = st.session_state


@class_records("The challenge")
def challenge_panel(work: ClassWork, cached: CachedModel) -> None:
    """Start a challenge on a digit (pushed to everyone), follow its leaderboard, end it."""
    st.header("Challenge")
    active = work.active_challenge()
    if active is None:
        with st.form("challenge"):
            kind = st.radio("Challenge", list(KINDS), format_func=lambda k: KINDS[k].title)
            target = st.selectbox("Target digit (for 'make it say')", range(10), index=3)
            wanted = st.selectbox("On a test digit of class", ["any", *range(10)], index=8)
            if st.form_submit_button("Start the challenge and push its digit to everyone"):
                data = get_data()
                _, digit = random_test_digit(
                    data.x_test, data.y_test, None if wanted == "any" else int(wanted)
                )
                target_digit = int(target) if KINDS[kind].targeted else None
                work.start_challenge(
                    kind, digit.image, int(digit.label), target_digit, cached.info.model_sha256
                )
                what = (
                    f"make this {digit.label} say {target_digit}"
                    if target_digit is not None
                    else f"fool the network on this {digit.label}"
                )
                work.push(digit.image, digit.label, f"Challenge: {what} (Adversarial lab)")
                st.rerun()
        return
    aim = KINDS[active.kind].aim(active.target)
    st.markdown(
        f"**Running:** on this {active.label}, {aim}. Students submit from the Adversarial lab."
    )
    left, right = st.columns([1, 3])
    left.image(
        render.png(render.grey_image(active.image, scale=4)),
        caption=f"a {active.label}",
        alt=f"The challenge's digit, a {active.label}.",
    )

    @st.fragment(run_every=REFRESH_SECONDS)
    def board() -> None:
        rows = work.leaderboard(active.id)
        if rows:
            measure = KINDS[active.kind].measure
            st.dataframe(
                [
                    {"rank": i + 1, "nickname": n, measure: round(s, 4)}
                    for i, (n, s) in enumerate(rows)
                ],
                hide_index=True,
            )
        else:
            st.caption("No verified submission yet.")

    with right:
        board()
    if st.button("End the challenge", key="challenge_end"):
        work.stop_challenge()
        st.rerun()


@class_records("The class's challenge")
def challenge_submission(
    work: ClassWork | None,
    digit: Digit,
    adversarial: np.ndarray,
    epsilon: float,
    l2: float,
    pixels: int,
    cached: CachedModel,
) -> None:
    """In the lab: when the current digit is the challenge's, submit the attack shown."""
    student = current_student(work)
    active = work.active_challenge() if work is not None else None
    if student is None or active is None or not active.is_on(digit.image):
        return
    claimed = claimed_size(active.kind, epsilon, l2, pixels)
    measure = KINDS[active.kind].claim_text(claimed)
    if st.button(f"Submit to the class challenge ({measure})", icon=":material/emoji_events:"):
        try:
            score = verify(active, adversarial, claimed, cached.model, cached.info.model_sha256)
        except ChallengeRejected as exc:
            st.error(f"Not accepted: {exc}.")
            return
        try:
            work.record_submission(active.id, student.id, score, adversarial)
        except ClassError as exc:
            st.warning(f"Not recorded: {exc}.")
        else:
            st.success(f"Accepted, checked by the server: {score:.3f}.")
    board = work.leaderboard(active.id, limit=5)
    if board:
        st.caption("Leaderboard: " + ", ".join(f"{n} {s:.3f}" for n, s in board))


@class_records("Our handwriting vs MNIST")
def style_panel(work: ClassWork, cached: CachedModel) -> None:
    """Our handwriting vs MNIST: how many of the class's drawings are unusual for MNIST."""
    st.header("Our handwriting vs MNIST")
    images, _ = work.labelled()
    if len(images) == 0:
        st.caption("No labelled drawings yet.")
        return
    reference = get_style_reference(cached)
    if reference is None:
        return
    share = style.unusual_share(cached.model, reference, images[-500:])
    st.metric(
        "Class drawings with a shape unusual for MNIST",
        f"{share:.0%}",
        help="Farther, in the network's last hidden layer, from MNIST's digits of the class it "
        "reads them as than 99% of MNIST's own test digits are: 1% of MNIST by construction.",
    )
    st.caption(
        f"Of the class's last {min(500, len(images))} labelled drawings; for MNIST's own test "
        "digits this is 1%. The further above, the more this class writes unlike MNIST's writers."
    )


@class_records("The class model")
def class_model_panel(work: ClassWork, cached: CachedModel, name: str) -> None:
    """Fine-tune a private copy on the class's labelled drawings, with MNIST replay; serve it."""
    st.header("A class model")
    images, labels = work.labelled()
    st.caption(
        "A private copy of the network learns the class's labelled drawings, replaying MNIST "
        "digits in every batch so that it keeps what it knew. A fifth of the drawings are held "
        f"out to judge it. It needs at least {MIN_DRAWINGS} labelled drawings ({len(labels)} now)."
    )
    if st.button(
        "Train the class model", disabled=len(labels) < MIN_DRAWINGS, key="class_model_go"
    ):
        data = get_data()
        check_x, check_y = mnist_check_digits(data.x_test, data.y_test)
        arch = architecture_of(cached.info).to_dict()
        state["class_model_job"] = queue(COMPUTE).submit(
            f"class-model:{cached.info.model_sha256}:{len(labels)}",
            lambda report, waiting: fine_tune(
                cached.model,
                cached.info.model_sha256,
                arch,
                images,
                labels,
                data.x_train,
                data.y_train,
                check_x,
                check_y,
                report,
            ),
            "Training the class model",
            priority=SHARED,
        )
    job = state.get("class_model_job")
    if job is not None:
        try:
            state["class_model_result"] = follow_job(job, "Training the class model...", COMPUTE)
        except Exception as exc:
            st.error(f"The class model could not be trained: {exc}.")
        state["class_model_job"] = None
    result = state.get("class_model_result")
    if result is None:
        return
    st.table(
        {
            "": ["Held-out class drawings", f"MNIST test digits ({CHECK_DIGITS:,})"],
            "Served network": [f"{result.before_class:.1%}", f"{result.before_mnist:.1%}"],
            "Class model": [f"{result.after_class:.1%}", f"{result.after_mnist:.1%}"],
        }
    )
    st.caption(
        f"Learned from {result.config.drawings - result.config.held_out} drawings; judged on the {result.config.held_out} held out."
    )
    if st.button("Serve the class model to the class", key="class_model_serve", type="primary"):
        data = get_data()
        cache = ModelCache(name=name)
        per_class = evaluate(result.model, data.x_test, data.y_test).per_class_accuracy
        try:
            with cache.lock():
                cache.save(result.training_result([float(a) for a in per_class]), data)
        except ModelCacheError as exc:
            st.error(f"The class model could not be saved: {exc}.")
            return
        work.set_served_model(name)
        st.success("Every student now sees the class model.")
    if work.settings()["served_model"] == name and st.button("Serve the default network again"):
        work.set_served_model(None)
        st.success("Every student sees the default network again.")


@class_records("Resume codes")
def codes_panel(work: ClassWork) -> None:
    """Give a student a new resume code (theirs was lost, seen by others, or withdrawn by Leave):
    the old one stops working at once, on every device."""
    st.header("Resume codes")
    students = work.students()
    if not students:
        st.caption("No student has joined yet.")
        return
    with st.form("new_code"):
        chosen = st.selectbox(
            "Student", students, format_func=lambda s: s.nickname, key="code_student"
        )
        if st.form_submit_button("Give this student a new code"):
            try:
                state["given_code"] = (chosen.nickname, work.new_code(chosen.id))
            except ClassError as exc:
                st.error(str(exc))
    if given := state.pop("given_code", None):  # shown once: the class view may be projected
        st.success(
            f"New code for **{given[0]}**: `{given[1]}`. Their old code no longer works; give "
            "them this one privately (not on the projector)."
        )
    st.caption(
        "A code stops working when its student takes a new one, leaves, or has not used it for "
        "longer than the class keeps drawings."
    )


@class_records("Removing a student")
def remove_student_panel(work: ClassWork) -> None:
    """Remove one student and all their work (a nickname that should not be there, a student who
    asked to be forgotten), after a confirmation that says how much goes."""
    st.header("Remove a student")
    students = work.students()
    if not students:
        st.caption("No student has joined yet.")
        return
    with st.form("remove_student"):
        chosen = st.selectbox(
            "Student", students, format_func=lambda s: s.nickname, key="remove_student_id"
        )
        sure = st.checkbox(
            "Yes: delete this student's nickname, code, drawings and challenge entries for good",
            key="remove_student_sure",
        )
        if st.form_submit_button("Remove the student", icon=":material/person_remove:"):
            if not sure:
                st.warning("Tick the box to confirm: removing a student cannot be undone.")
            else:
                try:
                    gone = work.remove_student(chosen.id)
                    state["removed_student"] = (chosen.nickname, gone)
                except ClassError as exc:
                    st.error(str(exc))
                else:
                    st.rerun()  # the lists above no longer show them
    if removed := state.pop("removed_student", None):
        st.success(
            f"**{removed[0]}** was removed with {removed[1]} drawing"
            f"{'s' if removed[1] != 1 else ''}. Their code no longer works."
        )
