"""The Draw page's panels about the learner's own digits, in AppTest: teaching a private copy
(the shared model untouched) and the feedback on an unusual shape."""

import threading
import time

import pytest
from conftest import app_test, canvas_drawing, canvas_state, tiny_mnist, write_idx_folder

from mnist_viz.core.cache import ModelCache
from mnist_viz.core.jobs import wait_for_every_queue
from mnist_viz.inputs import style

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def tiny_world(tiny_models_dir, tmp_path, monkeypatch):
    """The app on the tiny model, with a tiny MNIST to compare with and teach from."""
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tiny_models_dir))
    monkeypatch.setenv("MNIST_DATA", str(write_idx_folder(tmp_path / "mnist", tiny_mnist())))


@pytest.fixture
def drawn(tiny_world):
    at = app_test()
    at.session_state["canvas"] = canvas_state(canvas_drawing("1"))
    at.run()
    # the panel starts as one button
    assert "Teach it my handwriting" not in [e.label for e in at.expander]
    return button(at, "Misread? Teach it my handwriting").click().run()


def button(at, label: str):
    return next(b for b in at.button if b.label.startswith(label))


def test_a_private_copy_learns_my_examples_and_the_shared_model_stays(drawn, tiny_models_dir):
    at = drawn
    assert not at.exception
    shared = ModelCache(tiny_models_dir).read_info().model_sha256
    assert "Teach it my handwriting" in [e.label for e in at.expander]
    for width in (18, 24, 30):  # three drawings: the same one twice would teach nothing new
        at.session_state["canvas"] = canvas_state(canvas_drawing("1", width=width))
        at.run()
        at.selectbox(key="teach_label").set_value(7)
        button(at, "Add as an example").click().run()
        button(at, "Add as an example").click().run()  # added once, however often clicked
    assert len(at.session_state["teach_examples"]) == 3
    assert [label for _, label in at.session_state["teach_examples"]] == [7, 7, 7]
    teach = button(at, "Teach my private copy (3 examples)")
    assert not teach.disabled
    teach.click().run(timeout=240)
    assert not at.exception
    result = at.session_state["teach_result"]
    assert result.n_examples == 3 and result.n_checked == 128  # the tiny test set
    assert result.replay.predictions == (7, 7, 7) and result.naive.examples == 1.0
    table = at.table[0].value
    assert list(table.iloc[0])[1:] == [
        f"{result.before.examples:.0%}",
        f"{result.naive.examples:.0%}",
        f"{result.replay.examples:.0%}",
    ]
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "catastrophic forgetting" in text and "McCloskey & Cohen 1989" in text
    assert "Your private copy (taught 3 of your digits) reads it as **7**" in text
    # the shared model file is the same as before
    assert ModelCache(tiny_models_dir).read_info().model_sha256 == shared
    # forgetting the examples removes the private copy and folds the panel back to its button
    button(at, "Forget my examples").click().run()
    assert at.session_state["teach_examples"] == [] and at.session_state["teach_result"] is None
    assert "Teach it my handwriting" not in [e.label for e in at.expander]


def test_too_few_examples_cannot_be_taught(drawn):
    button(drawn, "Add as an example").click().run()
    assert button(drawn, "Teach my private copy (1 example)").disabled


def test_an_unusual_shape_gets_honest_feedback_with_mnist_examples(drawn, monkeypatch):
    # Which drawings are unusual is tested in test_style.py; here: what the page shows for one.
    monkeypatch.setattr(style, "UNSURE_BELOW", 1.01)
    monkeypatch.setattr(style.StyleCheck, "worth_saying", property(lambda self: True))
    # the reference is computed in the background (asked for on the page's first run)
    assert wait_for_every_queue(timeout=120)
    at = drawn.run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any("is unlike MNIST" in w and "MNIST's" in w for w in warnings), warnings
    shown = "".join(h.proto.body for h in at.get("html"))
    assert shown.count("MNIST ") >= 2 * style.NEIGHBOURS


def test_the_answer_never_waits_for_the_style_reference(tiny_world, monkeypatch):
    # The reference waits behind the class's heavy work on the compute queue; the answer does not.
    monkeypatch.setattr(style, "UNSURE_BELOW", 1.01)  # every answer asks for the style check
    release, fit_reference = threading.Event(), style.fit_reference

    def held(*args, **kwargs):
        release.wait(60)
        return fit_reference(*args, **kwargs)

    monkeypatch.setattr(style, "fit_reference", held)
    try:
        at = app_test()
        at.session_state["canvas"] = canvas_state(canvas_drawing("1"))
        started = time.monotonic()
        at.run()
        assert time.monotonic() - started < 30  # AppTest's own start is most of it
        assert not at.exception
        assert [m for m in at.metric if m.label == "Prediction"]
        assert not any("is unlike MNIST" in w.value for w in at.warning)
    finally:
        release.set()
    assert wait_for_every_queue(timeout=120)


def test_a_failed_style_reference_is_not_asked_for_again_on_every_answer(tiny_world, monkeypatch):
    import ui.results

    monkeypatch.setattr(style, "UNSURE_BELOW", 1.01)
    monkeypatch.setattr(ui.results, "_style_jobs", {})
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("a bug")

    monkeypatch.setattr(style, "fit_reference", broken)
    at = app_test()
    for width in (18, 24, 30):  # three answers, each asking for the style check
        at.session_state["canvas"] = canvas_state(canvas_drawing("1", width=width))
        at.run()
        assert wait_for_every_queue(timeout=60)
        assert not at.exception and [m for m in at.metric if m.label == "Prediction"]
    assert len(calls) == 1


def test_a_sure_answer_gets_no_style_feedback(drawn, monkeypatch):
    monkeypatch.setattr(style, "UNSURE_BELOW", 0.0)
    at = drawn.run()
    assert not any("is unlike MNIST" in w.value for w in at.warning)


def test_without_mnist_a_drawing_is_still_read_and_teaching_says_why_not(
    tiny_models_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tiny_models_dir))
    monkeypatch.setenv("MNIST_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setattr(style, "UNSURE_BELOW", 1.01)  # the style check is asked for, and skipped
    at = app_test()
    at.session_state["canvas"] = canvas_state(canvas_drawing("1"))
    at.run()
    assert not at.exception and not at.error
    assert at.session_state["current_digit"] is not None
    button(at, "Misread? Teach it my handwriting").click().run()
    for width in (18, 24, 30):
        at.session_state["canvas"] = canvas_state(canvas_drawing("1", width=width))
        at.run()
        button(at, "Add as an example").click().run()
    button(at, "Teach my private copy (3 examples)").click().run()
    assert not at.exception
    assert any("Teaching needs MNIST's digits" in e.value for e in at.error)
    assert len(at.session_state["teach_examples"]) == 3  # nothing is lost
