"""The teacher's sign-in (in the sidebar of every page) and the gate on controls that change what
every student sees. The rules are in ``mnist_viz.classroom.access``."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from mnist_viz.classroom.access import (
    LEDGER_NAME,
    MIN_PASSWORD_CHARS,
    PASSWORD_ENV_VAR,
    PASSWORD_SECRET,
    SPIKE_FAILURES,
    WINDOW_SECONDS,
    FailureLedger,
    password_setting,
    secrets_file_problem,
)
from mnist_viz.core.folders import data_dir

_SIGNED_IN = "teacher_signed_in"
_MESSAGE = "teacher_message"
SECRETS_FILE = Path(".streamlit") / "secrets.toml"
HOW_TO_ENABLE = (
    f"To switch teacher controls on, start the app with `{PASSWORD_ENV_VAR}` set to a password of "
    f'at least {MIN_PASSWORD_CHARS} characters, or put `{PASSWORD_SECRET} = "..."` in '
    "`.streamlit/secrets.toml` (readable by you only), then restart it."
)
LOCAL = ("127.0.0.1", "::1", "localhost")
LINK_PARAM = "teacher"  # ?teacher=<one-time token> from make teacher-link


def _password() -> str | None:
    setting = password_setting(st.secrets)
    return setting.password if setting.usable else None


def client_address() -> str:
    """The browser's address: what our nginx adds last to X-Forwarded-For when the request came
    through it (the client can forge the entries before), else the connection's own address."""
    ip = st.context.ip_address
    ip = ip if isinstance(ip, str) and ip else "unknown"  # none in a test harness
    forwarded = st.context.headers.get("X-Forwarded-For")
    if ip in LOCAL and isinstance(forwarded, str) and forwarded.strip():
        return forwarded.split(",")[-1].strip() or ip
    return ip


def _ledger() -> FailureLedger:
    return FailureLedger(data_dir() / LEDGER_NAME)


def is_teacher() -> bool:
    """Whether this session signed in with the teacher password (and one is still configured)."""
    return _password() is not None and st.session_state.get(_SIGNED_IN) is True


def device_key() -> str:
    """This browser, for the sign-in ledger: a hash of a cookie it keeps (nginx's replica cookie,
    else Streamlit's XSRF cookie), else this session (a test harness has no cookies)."""
    cookies = st.context.cookies
    for name in ("mnistviz_replica", "_streamlit_xsrf"):
        value = cookies.get(name)
        if isinstance(value, str) and value:
            return "cookie:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
    ctx = get_script_run_ctx()
    return "session:" + (ctx.session_id if ctx is not None else "none")


def _sign_in() -> None:
    expected = _password()
    given = st.session_state.get("teacher_password_input", "")
    st.session_state.teacher_password_input = ""  # never kept in the form
    if expected is None:
        st.session_state[_MESSAGE] = "That is not the teacher password."
        return
    attempt = _ledger().attempt(given, expected, client_address(), device_key())
    if attempt.signed_in:
        st.session_state[_SIGNED_IN] = True
        st.session_state[_MESSAGE] = None
    elif attempt.refused_unchecked:
        st.session_state[_MESSAGE] = (
            f"Too many wrong passwords from here: try again in {attempt.wait_s:.0f} s. If you are "
            "the teacher, `make teacher-link` on the server prints a one-time sign-in link."
        )
    elif attempt.wait_s > 0:
        st.session_state[_MESSAGE] = (
            f"That is not the teacher password. Try again in {attempt.wait_s:.0f} s."
        )
    else:
        st.session_state[_MESSAGE] = "That is not the teacher password."


def sign_in_with_link() -> None:
    """A one-time link from ``make teacher-link`` (``?teacher=...``) signs this browser in; the
    token leaves the address at once, used or not."""
    token = st.query_params.get(LINK_PARAM)
    if not token:
        return
    del st.query_params[LINK_PARAM]
    try:
        ok = _ledger().redeem(token, device_key())
    except (OSError, sqlite3.Error):
        ok = False
    if ok and _password() is not None:
        st.session_state[_SIGNED_IN] = True
        st.session_state[_MESSAGE] = None
    else:
        st.session_state[_MESSAGE] = (
            "That sign-in link is used, expired or unknown: run `make teacher-link` again."
        )


def failure_spike() -> str | None:
    """A sentence for the class view when wrong teacher passwords spike, else None."""
    try:
        count, addresses = _ledger().recent_failures()
    except (OSError, sqlite3.Error):
        return None
    if count < SPIKE_FAILURES:
        return None
    return (
        f"{count} wrong teacher passwords in the last {WINDOW_SECONDS / 60:.0f} minutes, from "
        f"{addresses} address{'es' if addresses != 1 else ''}: someone may be guessing. Browsers "
        "you signed in on are not held up by them; on a new one, `make teacher-link` on the "
        "server prints a one-time sign-in link."
    )


def _sign_out() -> None:
    st.session_state[_SIGNED_IN] = False


def teacher_sidebar() -> None:
    """Sign in or out, in a small expander at the bottom of the sidebar."""
    with st.sidebar.expander("For the teacher", icon=":material/school:"):
        setting = password_setting(st.secrets)
        if setting.problem is not None:
            st.warning(f"Teacher controls are off: {setting.problem}.")
            return
        if setting.password is None:
            st.caption("Retraining the shared models is switched off. " + HOW_TO_ENABLE)
            return
        if is_teacher():
            st.caption("Signed in as the teacher: you can retrain the shared models.")
            if problem := secrets_file_problem(SECRETS_FILE):
                st.warning(problem + ".")
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
