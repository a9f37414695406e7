"""AppTest for "How it learns" (a tiny model, synthetic data): one behaviour per test. The
numbers themselves are checked against tf.GradientTape in tests/inside/test_learning_step.py;
here, that the page shows them for the weight chosen, steps only the private copy and runs the
feedback-alignment job."""

import numpy as np
import pytest
from conftest import app_test, tiny_mnist, write_idx_folder
from streamlit.testing.v1 import AppTest

from mnist_viz.core.cache import ModelCache
from mnist_viz.inputs.digit import DRAWING, Digit, from_test_set
from mnist_viz.inside import feedback_alignment as fa
from ui.learning import COPY

TIMEOUT = 180
PAGE = "pages/how_it_learns.py"
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def app(tiny_models_dir, tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tiny_models_dir))
    monkeypatch.setenv("MNIST_DATA", str(write_idx_folder(tmp_path / "mnist", tiny_mnist())))
    at = app_test(TIMEOUT)
    data = tiny_mnist()
    at.session_state["current_digit"] = from_test_set(data.x_test, data.y_test, 0)
    return at


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def shared_model(tiny_models_dir):
    return ModelCache(directory=tiny_models_dir).load()


def test_the_forward_pass_and_the_loss_are_shown_for_the_true_label(app):
    at = app.switch_page(PAGE).run()
    assert not at.exception
    assert at.title[0].value == "How it learns"
    label = tiny_mnist().y_test[0]
    assert any(f"true label, from MNIST: **{label}**" in c.value for c in at.caption)
    forward = at.table[0].value
    assert list(forward["class"]) == [str(k) for k in range(10)]
    assert list(forward["target y"]).count("1") == 1
    assert f"L = -log p({label})" in markdown(at)


def test_a_drawing_asks_for_its_true_label_first(tiny_models_dir, monkeypatch):
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tiny_models_dir))
    at = app_test(TIMEOUT)
    image = tiny_mnist().x_test[1]
    at.session_state["current_digit"] = Digit(image, DRAWING, "your drawing")
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("Choose the digit's true label" in i.value for i in at.info)
    assert not at.dataframe  # no loss without the true answer
    at.selectbox[0].select(3).run()
    assert not at.exception
    assert "L = -log p(3)" in markdown(at)


def test_the_chain_is_shown_for_the_weight_chosen_by_number(app):
    at = app.switch_page(PAGE).run()
    at.selectbox(key="learning_layer").select("conv1").run()
    for key, value in (
        ("learning_conv1_row", 1),
        ("learning_conv1_column", 2),
        ("learning_conv1_output_channel", 3),
    ):
        at.number_input(key=key).set_value(value).run()
    assert not at.exception
    assert "conv1: row 1, column 2, input channel 0, output channel 3" in markdown(at)
    chain = at.table[1].value
    gradient = chain[chain["step"] == "the gradient"]["rule"].iloc[0]
    assert "dL/dw[1, 2, 0, 3]" in gradient
    assert list(chain["step"])[-1] == "and map 3's bias"


def test_a_click_on_the_gradient_map_chooses_the_weight(app):
    at = app.switch_page(PAGE).run()
    at.selectbox(key="learning_layer").select("conv1").run()
    out = at.number_input(key="learning_conv1_output_channel").value
    pick = f"learning_pick_conv1_0_{out}"
    at.session_state[pick] = {"selection": {"unit": [{"row": 2, "column": 0}]}}
    at.run()
    assert not at.exception
    assert at.number_input(key="learning_conv1_row").value == 2
    assert at.number_input(key="learning_conv1_column").value == 0
    # forged clicks outside the kernel, or not numbers at all, change nothing
    for cell in ({"row": 99, "column": -4}, {"row": float("inf"), "column": 0}, {"row": "x"}):
        at.session_state[pick] = {"selection": {"unit": [cell]}}
        at.run()
        assert not at.exception
        assert at.number_input(key="learning_conv1_row").value == 2


def test_a_step_changes_only_the_sessions_own_copy(app, tiny_models_dir):
    at = app.switch_page(PAGE).run()
    at.selectbox(key="learning_layer").select("logits").run()
    assert COPY not in at.session_state  # no copy until the first step
    assert "No step taken yet" in captions(at)
    shared_before = [w.copy() for w in shared_model(tiny_models_dir).model.get_weights()]
    at.button[0].click().run()
    assert not at.exception
    assert "**Step 1 on this digit** (1 in all)" in markdown(at)
    step_table = next(t.value for t in at.table if "what" in t.value.columns)
    assert list(step_table["what"]) == ["the weight", "the loss L", "the answer"]
    copy = at.session_state[COPY]
    assert copy.steps == 1
    for shared, before in zip(
        shared_model(tiny_models_dir).model.get_weights(), shared_before, strict=True
    ):
        np.testing.assert_array_equal(shared, before)  # the shared network did not learn
    assert not np.array_equal(copy.model.get_layer("logits").get_weights()[0], shared_before[-2])
    at.button[0].click().run()
    assert "**Step 2 on this digit** (2 in all)" in markdown(at)
    assert "At your copy's weights after 2 steps" in captions(at)
    at.button[1].click().run()  # Reset
    assert not at.exception
    assert COPY not in at.session_state
    assert "No step taken yet" in captions(at)


def test_the_step_uses_the_learning_rate_sent_with_the_click(app):
    at = app.switch_page(PAGE).run()
    at.selectbox(key="learning_layer").select("logits").run()
    at.number_input(key="learning_rate").set_value(0.5)
    at.button[0].click().run()  # both in one message, as a quick learner sends them
    step_table = next(t.value for t in at.table if "what" in t.value.columns)
    assert step_table["change"].iloc[0].startswith("-0.5 x ")


def test_steps_on_another_digit_are_said(app):
    at = app.switch_page(PAGE).run()
    at.button[0].click().run()
    data = tiny_mnist()
    at.session_state["current_digit"] = from_test_set(data.x_test, data.y_test, 1)
    at.run()
    assert not at.exception
    assert "Your copy has taken 1 step, none on this digit" in captions(at)
    assert "At your copy's weights after 1 step" in captions(at)


def test_feedback_alignment_runs_once_and_shows_both_curves(app, monkeypatch):
    calls = []
    real = fa.lesson_run

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(fa, "lesson_run", counted)
    at = app.switch_page(PAGE).run()
    assert not at.exception
    start = next(b for b in at.button if b.label == "Train both side by side")
    start.click().run()
    assert not at.exception
    text = markdown(at)
    assert "backpropagation reads" in text and "feedback alignment" in text
    assert "angle between" in text
    at.run()  # the next visit finds it computed: no button, no second run
    assert not any(b.label == "Train both side by side" for b in at.button)
    other = app_test(TIMEOUT).switch_page(PAGE).run()  # another session, the same run
    assert "backpropagation reads" in markdown(other)
    assert len(calls) == 1


def test_the_page_without_a_digit_still_offers_feedback_alignment(tiny_models_dir, monkeypatch):
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tiny_models_dir))
    at = app_test(TIMEOUT)
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("There is no digit yet" in i.value for i in at.info)
    assert any(b.label == "Train both side by side" for b in at.button)
