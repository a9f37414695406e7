"""The teacher password: where it comes from, how long it must be, and how wrong guesses are
counted (per browser and per address, never against the teacher's own browser, atomically, in a
file the replicas share, never logging a guess), and the one-time sign-in link."""

import logging
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from mnist_viz.classroom.access import (
    ADDRESS_FREE_ATTEMPTS,
    FREE_ATTEMPTS,
    LINK_SECONDS,
    LOCKOUT_SECONDS,
    MAX_LOCKOUT_SECONDS,
    MIN_PASSWORD_CHARS,
    PASSWORD_ENV_VAR,
    WINDOW_SECONDS,
    FailureLedger,
    password_matches,
    password_setting,
    secrets_file_problem,
    teacher_password,
)

GOOD = "correct horse battery"


class BrokenSecrets(dict):
    def get(self, key, default=None):
        raise FileNotFoundError("no secrets.toml")


def test_password_comes_from_the_environment_first_then_the_secrets(monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV_VAR, raising=False)
    assert teacher_password(None) is None
    assert teacher_password({}) is None
    assert teacher_password(BrokenSecrets()) is None
    assert teacher_password({"teacher_password": "from-secrets-file"}) == "from-secrets-file"
    monkeypatch.setenv(PASSWORD_ENV_VAR, "from-the-environment")
    assert teacher_password({"teacher_password": "from-secrets-file"}) == "from-the-environment"
    monkeypatch.setenv(PASSWORD_ENV_VAR, "")
    assert teacher_password({"teacher_password": ""}) is None  # empty means unset


@pytest.mark.parametrize("password", ["1", "short", "x" * (MIN_PASSWORD_CHARS - 1)])
def test_a_short_password_switches_teacher_controls_off_and_says_why(monkeypatch, password):
    monkeypatch.setenv(PASSWORD_ENV_VAR, password)
    setting = password_setting({})
    assert not setting.usable and teacher_password({}) is None
    assert f"shorter than {MIN_PASSWORD_CHARS} characters" in setting.problem
    monkeypatch.setenv(PASSWORD_ENV_VAR, "x" * MIN_PASSWORD_CHARS)
    assert password_setting({}).usable


def test_passwords_match_exactly():
    assert password_matches("sésame", "sésame")
    assert not password_matches("sesame", "sésame")
    assert not password_matches("", "x") and not password_matches("x ", "x")


def test_wrong_guesses_slow_the_browser_and_the_wait_doubles(tmp_path):
    ledger = FailureLedger(tmp_path / "ledger.sqlite3")
    for i in range(FREE_ATTEMPTS - 1):
        assert not ledger.attempt("guess", GOOD, "10.0.0.7", "b1", now=float(i)).signed_in
        assert ledger.wait_seconds("10.0.0.7", "b1", now=float(i)) == 0
    wrong = ledger.attempt("guess", GOOD, "10.0.0.7", "b1", now=10.0)
    assert not wrong.signed_in and wrong.wait_s == LOCKOUT_SECONDS
    early = ledger.attempt(GOOD, GOOD, "10.0.0.7", "b1", now=11.0)  # even the right one waits
    assert not early.signed_in and early.refused_unchecked
    assert ledger.wait_seconds("10.0.0.7", "b2", now=11.0) == 0  # another browser does not
    again = ledger.attempt("guess", GOOD, "10.0.0.7", "b1", now=10.0 + LOCKOUT_SECONDS)
    assert again.wait_s == 2 * LOCKOUT_SECONDS
    later = 10.0 + 3 * LOCKOUT_SECONDS
    assert ledger.attempt(GOOD, GOOD, "10.0.0.7", "b1", now=later).signed_in
    assert ledger.wait_seconds("10.0.0.7", "b1", now=later) == 0  # forgiven once signed in


def test_the_wait_is_shared_by_every_ledger_on_the_file(tmp_path):
    """A reload or another replica opens the same file: the same browser gets no fresh guesses."""
    path = tmp_path / "ledger.sqlite3"
    for i in range(FREE_ATTEMPTS):
        FailureLedger(path).attempt("guess", GOOD, "10.0.0.7", "b1", now=100.0 + i)
    assert FailureLedger(path).wait_seconds("10.0.0.7", "b1", now=103.0) > 0
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"


def test_guessing_on_many_browsers_slows_the_address_but_never_the_teachers_browser(tmp_path):
    ledger = FailureLedger(tmp_path / "ledger.sqlite3")
    school = "203.0.113.5"  # the whole class, and the teacher, behind one address
    assert ledger.attempt(GOOD, GOOD, school, "teacher's laptop", now=0.0).signed_in
    for i in range(ADDRESS_FREE_ATTEMPTS):  # a student opens fresh browsers to guess
        assert not ledger.attempt("guess", GOOD, school, f"student {i}", now=10.0 + i).signed_in
    fresh = ledger.attempt("guess", GOOD, school, "student 99", now=30.0)
    assert fresh.refused_unchecked and fresh.wait_s > 0  # the address now waits
    assert ledger.attempt("guess", GOOD, "198.51.100.1", "home", now=30.0).wait_s == 0
    # the right password from the teacher's own browser is never refused for their failures
    assert ledger.attempt(GOOD, GOOD, school, "teacher's laptop", now=31.0).signed_in
    # on a browser the teacher never signed in on, it waits; a one-time link lets them in
    assert ledger.attempt(GOOD, GOOD, school, "borrowed laptop", now=32.0).refused_unchecked
    token = ledger.issue_link(now=33.0)
    assert ledger.redeem(token, "borrowed laptop", now=34.0)
    assert ledger.attempt(GOOD, GOOD, school, "borrowed laptop", now=35.0).signed_in


def test_there_is_no_lock_for_everyone(tmp_path):
    ledger = FailureLedger(tmp_path / "ledger.sqlite3")
    for i in range(40):  # 20 addresses, two wrong guesses each
        ledger.attempt("guess", GOOD, f"10.0.1.{i % 20}", f"b{i % 20}", now=float(i))
    assert ledger.recent_failures(now=41.0) == (40, 20)
    assert ledger.attempt(GOOD, GOOD, "10.9.9.9", "teacher", now=41.0).signed_in


def test_parallel_tries_get_no_extra_guesses(tmp_path):
    """Reserve, count and compare in one transaction: 40 tries at once from one browser are
    compared at most FREE_ATTEMPTS times (the fourth and later wait)."""
    path = tmp_path / "ledger.sqlite3"
    FailureLedger(path).wait_seconds("10.0.0.7", "b1")  # the file exists before the race
    with ThreadPoolExecutor(40) as pool:
        tries = list(
            pool.map(
                lambda i: FailureLedger(path).attempt(f"guess {i}", GOOD, "10.0.0.7", "b1"),
                range(40),
            )
        )
    compared = [t for t in tries if not t.refused_unchecked]
    assert len(compared) == FREE_ATTEMPTS and not any(t.signed_in for t in tries)


def test_a_sign_in_link_works_once_and_expires(tmp_path):
    ledger = FailureLedger(tmp_path / "ledger.sqlite3")
    token = ledger.issue_link(now=0.0)
    assert not ledger.redeem("x" * len(token), "b1", now=1.0)  # an unknown token
    assert ledger.redeem(token, "b1", now=1.0)
    assert not ledger.redeem(token, "b2", now=2.0)  # one use
    late = ledger.issue_link(now=0.0)
    assert not ledger.redeem(late, "b1", now=LINK_SECONDS + 1)  # expired
    stored = (tmp_path / "ledger.sqlite3").read_bytes()
    assert token.encode() not in stored  # only a hash is kept


def test_old_failures_are_forgotten_and_the_wait_has_a_ceiling(tmp_path):
    ledger = FailureLedger(tmp_path / "ledger.sqlite3")
    for i in range(12):
        ledger.record_failure("10.0.0.7", "b1", now=float(i))
    assert ledger.wait_seconds("10.0.0.7", "b1", now=12.0) <= MAX_LOCKOUT_SECONDS
    assert ledger.wait_seconds("10.0.0.7", "b1", now=12.0 + WINDOW_SECONDS) == 0


def test_failures_are_logged_without_the_guess(tmp_path, caplog):
    ledger = FailureLedger(tmp_path / "ledger.sqlite3")
    with caplog.at_level(logging.INFO, logger="mnist_viz.classroom.access"):
        ledger.attempt("my-secret-guess", GOOD, "10.0.0.7")
    text = caplog.text
    assert "sign-in failed from 10.0.0.7" in text and "my-secret-guess" not in text


def test_a_secrets_file_others_can_read_is_flagged(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('teacher_password = "x"\n')
    secrets.chmod(0o644)
    assert "chmod 600" in secrets_file_problem(secrets)
    secrets.chmod(0o600)
    assert secrets_file_problem(secrets) is None
    assert secrets_file_problem(tmp_path / "missing.toml") is None


def test_the_secrets_file_and_the_data_folder_are_never_committed():
    import subprocess

    from conftest import ROOT

    for path in (".streamlit/secrets.toml", "data/sign-in.sqlite3"):
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
        assert ignored.returncode == 0, path


def test_the_password_script_writes_a_private_secrets_file(tmp_path):
    import tomllib

    from deploy.teacher_password import write_password

    secrets = tmp_path / "secrets.toml"
    secrets.write_text('teacher_password = "old"\nother = 1\n')
    secrets.chmod(0o644)
    write_password('a "quoted" long passphrase', secrets)
    assert oct(secrets.stat().st_mode & 0o777) == "0o600"
    values = tomllib.loads(secrets.read_text())
    assert values == {"teacher_password": 'a "quoted" long passphrase', "other": 1}
    with pytest.raises(ValueError, match="at least 12 characters"):
        write_password("short", secrets)


def test_an_unusable_ledger_still_limits_guesses_in_memory(tmp_path):
    """A ledger file that cannot be written (a full disk; here a folder where the file should
    be) locks nobody out, and guessing is still slowed, per browser and per address, by the
    process's own count: not one free guess a second."""
    blocked = tmp_path / "ledger.sqlite3"
    blocked.mkdir()  # sqlite cannot open a folder as its file
    ledger = FailureLedger(blocked)
    for i in range(FREE_ATTEMPTS - 1):  # each page run opens its own ledger on the file
        tried = FailureLedger(blocked).attempt("guess", GOOD, "10.0.0.7", "b1", now=float(i))
        assert not tried.signed_in
    wrong = ledger.attempt("guess", GOOD, "10.0.0.7", "b1", now=10.0)
    assert wrong.wait_s == LOCKOUT_SECONDS
    early = ledger.attempt(GOOD, GOOD, "10.0.0.7", "b1", now=11.0)
    assert early.refused_unchecked and not early.signed_in  # not even compared
    assert ledger.attempt(GOOD, GOOD, "10.0.0.8", "teacher", now=11.0).signed_in
    for i in range(ADDRESS_FREE_ATTEMPTS):  # fresh browsers from one address
        ledger.attempt("guess", GOOD, "10.0.0.9", f"s{i}", now=20.0 + i)
    assert ledger.attempt("guess", GOOD, "10.0.0.9", "s99", now=40.0).refused_unchecked
