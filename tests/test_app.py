"""AppTest: the pages run without exceptions and show what they should."""

from dataclasses import replace

import pytest
from conftest import TINY_PEN_DIGITS, app_test, save_tiny_model, tiny_mnist
from streamlit.testing.v1 import AppTest

from mnist_viz.core.cache import ModelCache
from mnist_viz.core.data import SOURCE_SAMPLE

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


def run_app() -> AppTest:
    return app_test().run()


def test_cached_model_is_loaded_not_retrained(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tmp_path / "models"))
    save_tiny_model(tmp_path / "models")
    at = run_app()
    assert not at.exception
    assert at.title[0].value == "Draw & predict"
    assert any("on MNIST's test set; learned from MNIST" in c.value for c in at.sidebar.caption)
    assert not at.sidebar.warning  # trained on a real path, not the sample


@pytest.mark.process  # trains in a child process, as the app does
def test_first_run_trains_with_progress_and_caches(tmp_path, monkeypatch, tiny_idx_folder):
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("MNIST_DATA", str(tiny_idx_folder))
    at = run_app()
    assert not at.exception
    assert any("Trained and cached" in s.value for s in at.success)
    info = ModelCache(tmp_path / "models").load().info
    # the first run learns from MNIST plus two renderings of each (of the tests' few) pen digits
    assert [s["name"] for s in info.sources] == ["MNIST", "pen"]
    assert info.n_train == 512 + 2 * TINY_PEN_DIGITS
    at.run()  # a rerun loads the cache instead of training again
    assert not at.exception and not at.success


def test_offline_sample_is_flagged(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tmp_path / "models"))
    save_tiny_model(tmp_path / "models", replace(tiny_mnist(), source=SOURCE_SAMPLE))
    at = run_app()
    assert not at.exception
    warning = at.sidebar.warning[0].value
    assert "offline" in warning and "MNIST_DATA" in warning


def test_missing_data_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("MNIST_DATA", str(tmp_path / "no-such-folder"))
    at = run_app()
    assert not at.exception
    assert "MNIST could not be loaded" in at.error[0].value
    assert "no such file or folder" in at.error[0].value


@pytest.mark.process  # trains in a child process, as the app does
def test_a_corrupt_only_model_is_trained_again_and_the_page_says_so(
    tmp_path, monkeypatch, tiny_idx_folder
):
    models = tmp_path / "models"
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(models))
    monkeypatch.setenv("MNIST_DATA", str(tiny_idx_folder))
    save_tiny_model(models)
    ModelCache(models).model_path.write_bytes(b"garbage")
    at = run_app()
    assert not at.exception
    assert any("cannot be used" in e.value and "trained again" in e.value for e in at.error)
    assert any("Trained and cached" in s.value for s in at.success)


def test_a_corrupt_model_falls_back_to_the_one_before_it(tmp_path, monkeypatch, tiny_idx_folder):
    """The teacher's model is damaged: the page serves the one before it and says so; nothing
    is trained over it."""
    models = tmp_path / "models"
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(models))
    monkeypatch.setenv("MNIST_DATA", str(tiny_idx_folder))
    save_tiny_model(models)
    first = ModelCache(models).read_info().model_sha256
    save_tiny_model(models, tiny_mnist(n_train=256))  # the teacher's, replacing it
    ModelCache(models).model_path.write_bytes(b"garbage")
    at = run_app()
    assert not at.exception and not at.success  # nothing trained
    assert any("current mnist_cnn model cannot be used" in e.value for e in at.error)
    assert ModelCache(models).load_best().info.model_sha256 == first


def test_a_page_that_started_over_says_so(tiny_models_dir, monkeypatch):
    """A new session whose URL carries an earlier session's marker was reloaded or reconnected
    (to another replica, after its own died): the student is told; a first visit is not."""
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tiny_models_dir))
    first = run_app()
    assert not any("started over" in i.value for i in first.info)
    marker = first.query_params["session"]
    assert marker and len(marker[0] if isinstance(marker, list) else marker) == 8
    again = app_test()
    again.query_params["session"] = "0123abcd"
    again.run()
    assert not again.exception
    assert any("This page started over" in i.value for i in again.info)
    assert again.query_params["session"] not in ("0123abcd", ["0123abcd"])


def test_a_page_that_started_over_answers_no_drawing_it_no_longer_shows(
    tiny_models_dir, monkeypatch
):
    """A reconnected page may have re-mounted its pad empty while its first request still
    carried the last drawing: the page starts with an empty pad, not an answer for that drawing."""
    from conftest import canvas_drawing, canvas_state

    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tiny_models_dir))
    again = app_test()
    again.query_params["session"] = "0123abcd"  # an earlier session's page
    again.session_state["canvas"] = canvas_state(canvas_drawing("1"))  # what the request carried
    again.run()
    assert not again.exception
    assert not [m for m in again.metric if m.label == "Prediction"]
    assert any("Draw a digit" in i.value for i in again.info)
    assert again.session_state["pen_fallback_clears"] == 1  # the pad is re-created empty
    # and the next drawing is answered as usual
    again.session_state["canvas"] = canvas_state(canvas_drawing("1"))
    again.run()
    assert [m for m in again.metric if m.label == "Prediction"]
