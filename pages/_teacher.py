"""The teacher's sign-in (in the sidebar of every page) and the gate on controls that change what
every student sees. The rules are in ``mnist_viz.access``."""

from __future__ import annotations

import time

import streamlit as st

from mnist_viz.access import PASSWORD_ENV_VAR, PASSWORD_SECRET, SignInGuard, teacher_password

_SIGNED_IN = "teacher_signed_in"
_GUARD = "teacher_guard"
_MESSAGE = "teacher_message"
HOW_TO_ENABLE = (
    f"To switch teacher controls on, start the app with `{PASSWORD_ENV_VAR}` set, or put "
    f'`{PASSWORD_SECRET} = "..."` in `.streamlit/secrets.toml`, then restart it.'
)


def _password() -> str | None:
    return teacher_password(st.secrets)


def is_teacher() -> bool:
    """Whether this session signed in with the teacher password (and one is still configured)."""
    return _password() is not None and st.session_state.get(_SIGNED_IN) is True


def _sign_in() -> None:
    expected = _password()
    guard = st.session_state.setdefault(_GUARD, SignInGuard())
    given = st.session_state.get("teacher_password_input", "")
    st.session_state.teacher_password_input = ""  # never kept in the form
    now = time.monotonic()
    if expected is not None and guard.attempt(given, expected, now):
        st.session_state[_SIGNED_IN] = True
        st.session_state[_MESSAGE] = None
    elif (wait := guard.wait_seconds(now)) > 0:
        st.session_state[_MESSAGE] = f"Too many wrong passwords: try again in {wait:.0f} s."
    else:
        st.session_state[_MESSAGE] = "That is not the teacher password."


def _sign_out() -> None:
    st.session_state[_SIGNED_IN] = False


def teacher_sidebar() -> None:
    """Sign in or out, in a small expander at the bottom of the sidebar."""
    with st.sidebar.expander("For the teacher", icon=":material/school:"):
        if _password() is None:
            st.caption("Retraining the shared models is switched off. " + HOW_TO_ENABLE)
            return
        if is_teacher():
            st.caption("Signed in as the teacher: you can retrain the shared models.")
            st.button("Sign out", on_click=_sign_out, key="teacher_sign_out")
            return
        with st.form("teacher_sign_in", border=False, enter_to_submit=True):
            st.text_input("Teacher password", type="password", key="teacher_password_input")
            st.form_submit_button("Sign in", on_click=_sign_in)
        if message := st.session_state.get(_MESSAGE):
            st.error(message)


def teacher_only(action: str) -> bool:
    """True for the teacher; for anyone else, say why ``action`` is not offered and return False."""
    if is_teacher():
        return True
    reason = f"{action} changes the model for the whole class, so only the teacher can do it"
    if _password() is None:
        st.info(f"{reason}. {HOW_TO_ENABLE}", icon=":material/lock:")
    else:
        st.info(
            f"{reason}: sign in under **For the teacher** in the sidebar.", icon=":material/lock:"
        )
    return False
