from mnist_viz.access import (
    FREE_ATTEMPTS,
    LOCKOUT_SECONDS,
    PASSWORD_ENV_VAR,
    SignInGuard,
    password_matches,
    teacher_password,
)


class BrokenSecrets(dict):
    def get(self, key, default=None):
        raise FileNotFoundError("no secrets.toml")


def test_password_comes_from_the_environment_first_then_the_secrets(monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV_VAR, raising=False)
    assert teacher_password(None) is None
    assert teacher_password({}) is None
    assert teacher_password(BrokenSecrets()) is None
    assert teacher_password({"teacher_password": "from-secrets"}) == "from-secrets"
    monkeypatch.setenv(PASSWORD_ENV_VAR, "from-env")
    assert teacher_password({"teacher_password": "from-secrets"}) == "from-env"
    monkeypatch.setenv(PASSWORD_ENV_VAR, "")
    assert teacher_password({"teacher_password": ""}) is None  # empty means unset


def test_passwords_match_exactly():
    assert password_matches("sésame", "sésame")
    assert not password_matches("sesame", "sésame")
    assert not password_matches("", "x") and not password_matches("x ", "x")


def test_wrong_guesses_lock_the_session_out_for_a_while():
    guard = SignInGuard()
    for _ in range(FREE_ATTEMPTS - 1):
        assert not guard.attempt("guess", "right", now=0.0)
        assert guard.wait_seconds(0.0) == 0
    assert not guard.attempt("guess", "right", now=1.0)
    assert guard.wait_seconds(1.0) == LOCKOUT_SECONDS
    assert not guard.attempt("right", "right", now=2.0)  # even the right one waits its turn
    assert guard.attempt("right", "right", now=1.0 + LOCKOUT_SECONDS)
    assert guard.failures == 0
