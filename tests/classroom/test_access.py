"""The teacher password: where it comes from, how long it must be, and how wrong guesses are
counted (per address and for everyone, in a file the replicas share, never logging a guess)."""

import logging
import os

import pytest

from mnist_viz.classroom.access import (
    FREE_ATTEMPTS,
    GLOBAL_FREE_ATTEMPTS,
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


def test_wrong_guesses_lock_an_address_out_and_the_lockout_doubles(tmp_path):
    ledger = FailureLedger(tmp_path / "ledger.sqlite3")
    for i in range(FREE_ATTEMPTS - 1):
        assert not ledger.attempt("guess", GOOD, "10.0.0.7", now=float(i))
        assert ledger.wait_seconds("10.0.0.7", now=float(i)) == 0
    assert not ledger.attempt("guess", GOOD, "10.0.0.7", now=10.0)
    assert ledger.wait_seconds("10.0.0.7", now=10.0) == LOCKOUT_SECONDS
    assert not ledger.attempt(GOOD, GOOD, "10.0.0.7", now=11.0)  # even the right one waits
    assert ledger.wait_seconds("10.0.0.8", now=11.0) == 0  # another address does not
    assert not ledger.attempt("guess", GOOD, "10.0.0.7", now=10.0 + LOCKOUT_SECONDS)
    assert ledger.wait_seconds("10.0.0.7", now=10.0 + LOCKOUT_SECONDS) == 2 * LOCKOUT_SECONDS
    later = 10.0 + 3 * LOCKOUT_SECONDS
    assert ledger.attempt(GOOD, GOOD, "10.0.0.7", now=later)
    assert ledger.wait_seconds("10.0.0.7", now=later) == 0  # forgiven once signed in


def test_the_lockout_is_shared_by_every_ledger_on_the_file(tmp_path):
    """A reload (a new session) or another replica opens the same file: no fresh guesses."""
    path = tmp_path / "ledger.sqlite3"
    for i in range(FREE_ATTEMPTS):
        FailureLedger(path).attempt("guess", GOOD, "10.0.0.7", now=100.0 + i)
    assert FailureLedger(path).wait_seconds("10.0.0.7", now=103.0) > 0
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"


def test_many_addresses_guessing_slow_everyone_down(tmp_path):
    ledger = FailureLedger(tmp_path / "ledger.sqlite3")
    for i in range(GLOBAL_FREE_ATTEMPTS):
        ledger.attempt("guess", GOOD, f"10.0.1.{i}", now=float(i))
    assert ledger.wait_seconds("10.9.9.9", now=float(GLOBAL_FREE_ATTEMPTS)) > 0


def test_old_failures_are_forgotten_and_the_lockout_has_a_ceiling(tmp_path):
    ledger = FailureLedger(tmp_path / "ledger.sqlite3")
    for i in range(12):
        ledger.record_failure("10.0.0.7", now=float(i))
    assert ledger.wait_seconds("10.0.0.7", now=12.0) <= MAX_LOCKOUT_SECONDS
    assert ledger.wait_seconds("10.0.0.7", now=12.0 + WINDOW_SECONDS) == 0


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
