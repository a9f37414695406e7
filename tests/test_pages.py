"""AppTest, one behaviour per test: every page runs without an exception and shows what it should."""

import base64
import re

import numpy as np
import pytest
from conftest import (
    TINY_PEN_DIGITS,
    app_test,
    canvas_drawing,
    canvas_state,
    finish_training,
    sign_in_as_teacher,
    tiny_mnist,
    write_idx_folder,
)
from streamlit.testing.v1 import AppTest

from mnist_viz.classroom.access import FREE_ATTEMPTS
from mnist_viz.core.cache import ModelCache
from mnist_viz.core.model import predict_proba
from mnist_viz.inputs.digit import DRAWING, TEST_SET, Digit, from_test_set

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


def current_digit(at: AppTest) -> Digit | None:
    # AppTest's session state has no .get()
    return at.session_state["current_digit"] if "current_digit" in at.session_state else None  # noqa: SIM401


def blank_canvas() -> np.ndarray:
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255  # the canvas is opaque black
    return canvas


@pytest.fixture
def tiny_app(tiny_models_dir, tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tiny_models_dir))
    monkeypatch.setenv("MNIST_DATA", str(write_idx_folder(tmp_path / "mnist", tiny_mnist())))
    return app_test()


@pytest.fixture
def mnist_app(mnist_model_dir, official_mnist_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(mnist_model_dir))
    monkeypatch.setenv("MNIST_DATA", str(official_mnist_path))
    return app_test()


def test_fresh_visit_prompts_for_a_digit(tiny_app):
    at = tiny_app.run()
    assert not at.exception
    assert at.title[0].value == "Draw & predict"
    assert "Draw a digit" in at.info[0].value
    assert not [m for m in at.metric if m.label == "Prediction"]


@pytest.mark.parametrize("digit", ["1", "0"])
def test_injected_drawing_is_predicted(mnist_app, digit):
    mnist_app.session_state["canvas"] = canvas_state(canvas_drawing(digit))
    at = mnist_app.run()
    assert not at.exception
    prediction = next(m for m in at.metric if m.label == "Prediction")
    assert prediction.value == digit
    assert at.session_state["current_digit"].source == DRAWING
    assert any("your drawing (1 stroke)" in c.value for c in at.caption)
    # the preprocessing stages (PNG) and the pixel grid: one SVG with a number in every inked square
    html = "".join(h.proto.body for h in at.main.get("html"))
    assert html.count("data:image/png;base64,") == 4
    grids = re.findall(
        r'alt="28 by 28 pixel values; (\d+) of 784[^"]*" src="data:image/svg\+xml;base64,([^"]+)"',
        html,
    )
    assert len(grids) == 1
    inked, svg = int(grids[0][0]), base64.b64decode(grids[0][1]).decode()
    assert inked > 20 and svg.count("<text ") == inked
    # other pages show the same digit and prediction in the sidebar
    at.switch_page("pages/network.py").run()
    assert at.sidebar.metric[0].value == digit


def test_blank_drawing_gives_a_prompt_not_a_prediction(tiny_app):
    tiny_app.session_state["canvas"] = canvas_state(blank_canvas())
    at = tiny_app.run()
    assert not at.exception
    assert "Draw a digit" in at.info[0].value
    assert current_digit(at) is None


def test_scribble_is_flagged_as_not_a_digit(tiny_app):
    filled = blank_canvas()
    yy, xx = np.mgrid[:280, :280]
    filled[(yy - 140) ** 2 + (xx - 140) ** 2 < 90**2, :3] = 255  # a solid disc: far too much ink
    tiny_app.session_state["canvas"] = canvas_state(filled)
    at = tiny_app.run()
    assert not at.exception
    assert any("does not look like a handwritten digit" in w.value for w in at.warning)


def test_a_cleared_canvas_removes_the_drawn_digit(tiny_app):
    # Clear empties the canvas in the browser, which then sends its empty state: that is all the
    # server sees of it (the browser side is tested in test_browser.py).
    tiny_app.session_state["canvas"] = canvas_state(canvas_drawing("1"))
    at = tiny_app.run()
    assert at.session_state["current_digit"] is not None
    at.session_state["canvas"] = canvas_state(blank_canvas(), strokes=0)
    at.run()
    assert not at.exception
    assert current_digit(at) is None
    assert "Draw a digit" in at.info[0].value


def test_pick_a_test_digit_of_a_chosen_class(tiny_app):
    at = tiny_app.run()
    at.selectbox(key="pick_class").select(7)
    next(b for b in at.button if b.label == "Random test digit").click()
    at.run()
    assert not at.exception
    digit = at.session_state["current_digit"]
    assert digit.source == TEST_SET and digit.label == 7
    assert any("true label is 7" in e.value for e in [*at.success, *at.error])


def test_picked_digit_survives_page_changes(tiny_app):
    at = tiny_app.run()
    next(b for b in at.button if b.label == "Random test digit").click()
    at.run()
    picked = at.session_state["current_digit"]
    at.switch_page("pages/network.py").run()
    assert not at.exception
    assert at.session_state["current_digit"] is picked


def test_network_page_without_a_digit_shows_filters_and_a_prompt(tiny_app):
    at = tiny_app.switch_page("pages/network.py").run()
    assert not at.exception
    assert at.title[0].value == "Inside the network"
    assert "no digit yet" in at.info[0].value
    assert list(at.dataframe[0].value["Parameters"])[-1] == 225_034


def test_network_page_shows_every_layer_of_the_current_digit(tiny_app):
    data = tiny_mnist()
    tiny_app.session_state["current_digit"] = from_test_set(data.x_test, data.y_test, 3)
    at = tiny_app.switch_page("pages/network.py").run()
    assert not at.exception
    for layer in ["conv1", "pool1", "conv2", "pool2"]:
        at.segmented_control(key="map_layer").set_value(layer).run()
        assert not at.exception
    at.toggle(key="per_channel").set_value(True).run()
    at.segmented_control(key="conv2_browse").set_value("input channel").run()
    at.slider(key="conv2_channel").set_value(31).run()
    assert not at.exception
    assert any("128 units" in s.value for s in at.subheader)


def test_training_page_shows_history_confusion_and_data(tiny_app):
    at = tiny_app.switch_page("pages/training.py").run()
    assert not at.exception
    assert at.title[0].value == "Training & evaluation"
    assert [m.label for m in at.metric][:4] == [
        "Test accuracy",
        "Training time",
        "Epochs",
        "Training images",
    ]
    confusion = at.dataframe[0].value
    assert confusion.shape == (10, 10) and confusion.to_numpy().sum() == 128


def test_the_data_section_names_both_sources_with_sizes_and_attribution(tiny_app):
    at = tiny_app.switch_page("pages/training.py").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**MNIST** (512 images)" in text
    assert f"**pen** ({2 * TINY_PEN_DIGITS} images): {TINY_PEN_DIGITS} pen-drawn digits by" in text
    subheaders = [s.value for s in at.subheader]
    assert subheaders.index("Real pen-drawn digits") == subheaders.index("MNIST") + 1
    captions = " ".join(c.value for c in at.caption)
    assert "doi:10.24432/C5MG6K), CC BY 4.0" in captions  # the attribution the licence asks for
    slant = next(d.value for d in at.dataframe if "slant, pen" in d.value.columns)
    assert list(slant["digit"]) == list(range(10))
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert f"MNIST (512 images) and real pen-drawn digits ({2 * TINY_PEN_DIGITS} images)" in sidebar


def test_choosing_a_confused_image_makes_it_the_current_digit(tiny_app, tiny_models_dir):
    at = tiny_app.switch_page("pages/training.py").run()
    true, predicted = at.session_state["cm_true"], at.session_state["cm_pred"]
    at.selectbox(key="cm_true").select(true).run()
    use = [b for b in at.button if b.label == "Use"]
    if not use:  # the tiny model may make no mistake: then the diagonal cell has examples
        at.selectbox(key="cm_pred").select(true).run()
        use = [b for b in at.button if b.label == "Use"]
        predicted = true
    use[0].click()
    at.run()
    assert not at.exception
    digit: Digit = at.session_state["current_digit"]
    assert digit.source == TEST_SET and digit.label == true
    # the image came from the chosen cell: the model really reads it as that cell's column
    model = ModelCache(tiny_models_dir).load().model
    assert int(predict_proba(model, digit.image).argmax()) == predicted


@pytest.fixture
def retrain_app(tiny_models_dir, tmp_path, monkeypatch) -> AppTest:
    import shutil

    models = shutil.copytree(tiny_models_dir, tmp_path / "models")  # not the shared tiny model
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(models))
    monkeypatch.setenv("MNIST_DATA", str(write_idx_folder(tmp_path / "mnist", tiny_mnist())))
    return app_test()


def retrain_button(at: AppTest):
    return next((b for b in at.button if b.label == "Train"), None)


def test_retraining_is_off_until_a_teacher_password_is_set(retrain_app):
    at = retrain_app.switch_page("pages/training.py").run()
    assert not at.exception
    assert retrain_button(at) is None
    assert any("MNIST_VIZ_TEACHER_PASSWORD" in i.value for i in at.info)
    assert any("switched off" in c.value for c in at.sidebar.caption)


def test_students_cannot_retrain_and_a_wrong_password_is_refused(retrain_app, teacher_password):
    at = retrain_app.switch_page("pages/training.py").run()
    assert retrain_button(at) is None
    assert any("sign in under **For the teacher**" in i.value for i in at.info)
    at = sign_in_as_teacher(at, "guess")
    assert not at.exception
    assert any("not the teacher password" in e.value for e in at.error)
    assert retrain_button(at) is None


def test_reloading_the_page_gives_no_fresh_guesses(retrain_app, teacher_password):
    at = retrain_app.switch_page("pages/training.py").run()
    for _ in range(FREE_ATTEMPTS):
        at = sign_in_as_teacher(at, "guess")
    # a reload is a new session: it must still wait, even with the right password
    reloaded = app_test().switch_page("pages/training.py").run()
    reloaded = sign_in_as_teacher(reloaded, teacher_password)
    assert not reloaded.exception
    assert any("Too many wrong passwords" in e.value for e in reloaded.error)
    assert retrain_button(reloaded) is None


def test_a_short_teacher_password_switches_teacher_controls_off(retrain_app, monkeypatch):
    monkeypatch.setenv("MNIST_VIZ_TEACHER_PASSWORD", "1")
    at = retrain_app.switch_page("pages/training.py").run()
    assert not at.exception
    assert any("shorter than 12 characters" in w.value for w in at.sidebar.warning)
    assert not [t for t in at.text_input if t.label == "Teacher password"]


@pytest.mark.process  # trains in a child process, as the app does
def test_the_teacher_retrains_the_shared_model(retrain_app, teacher_password):
    before = ModelCache().read_info()
    at = sign_in_as_teacher(retrain_app.switch_page("pages/training.py").run())
    at.number_input[0].set_value(2)
    at.toggle[0].set_value(True)
    learn_from = next(r for r in at.radio if r.label == "Learn from")
    assert learn_from.value == "mnist+pen"  # what the served network learned from
    learn_from.set_value("mnist")
    retrain_button(at).click()
    at.run()
    assert not at.exception
    at = finish_training(at, "my_training")
    assert not at.exception
    after = ModelCache().read_info()
    assert after.model_sha256 != before.model_sha256
    assert after.config["epochs"] == 2 and after.config["augment"] is True
    assert after.config["data_mix"] == "mnist" and [s["name"] for s in after.sources] == ["MNIST"]
    assert any("Trained: " in s.value for s in at.success)
    assert at.metric[2].value == "2"  # the page now shows the new model


def test_a_stroke_traced_over_earlier_ink_still_updates_the_answer(tiny_app):
    # The answer names the drawing it belongs to by its stroke count; a second stroke that adds
    # no new ink must still move it on (a class's benchmark waits for exactly that text).
    tiny_app.session_state["canvas"] = canvas_state(canvas_drawing("1"), strokes=1)
    at = tiny_app.run()
    assert current_digit(at).description == "your drawing (1 stroke)"
    at.session_state["canvas"] = canvas_state(canvas_drawing("1"), strokes=2)
    at.run()
    assert current_digit(at).description == "your drawing (2 strokes)"
    assert any("your drawing (2 strokes)" in c.value for c in at.caption)


def test_watch_it_learn_scrubs_from_random_weights_to_the_trained_network(tiny_app):
    data = tiny_mnist()
    tiny_app.session_state["current_digit"] = from_test_set(data.x_test, data.y_test, 5)
    at = tiny_app.switch_page("pages/training.py").run()
    assert not at.exception
    assert any(s.value == "Watch it learn" for s in at.subheader)
    slider = at.select_slider(key="timeline")
    assert slider.options[0] == "start (random weights)" and slider.options[-1].startswith("end")

    def accuracy() -> float:
        shown = next(m for m in at.metric if m.label.startswith("Accuracy at this point"))
        return float(shown.value.rstrip("%")) / 100

    trained = accuracy()
    at.select_slider(key="timeline").set_value("start (random weights)").run()
    assert not at.exception
    untrained = accuracy()
    assert untrained < trained  # the tiny model learned something in its one epoch
    # the score shown is the snapshot's own, recomputed here from the saved weights
    cache = ModelCache()
    first = cache.read_snapshots(cache.read_info())[0]
    model = cache.load().model
    model.set_weights(first.weights)
    predicted = predict_proba(model, data.x_test[:1000]).argmax(axis=1)
    assert untrained == pytest.approx(np.mean(predicted == data.y_test[:1000]), abs=0.0006)
    assert any("conv1 maps; at this point the network read" in c.value for c in at.caption)


def test_one_units_arithmetic_matches_its_feature_map(tiny_app):
    import re

    data = tiny_mnist()
    tiny_app.session_state["current_digit"] = from_test_set(data.x_test, data.y_test, 3)
    at = tiny_app.switch_page("pages/network.py").run()
    for layer in ["conv1", "pool1", "conv2"]:
        at.segmented_control(key="map_layer").set_value(layer).run()
        assert not at.exception
        said = " ".join(m.value for m in [*at.markdown, *at.caption])
        computed, shown = re.search(
            r"\*\*(-?[\d.]+)\*\*, as the map shows \((-?[\d.]+)\)", said
        ).groups()
        assert computed == shown, layer
    at.number_input(key="unit_map_conv2").set_value(5).run()
    assert not at.exception


@pytest.mark.parametrize(
    ("forged", "what"),
    [
        (
            "data:image/png;base64," + base64.b64encode(b"\xff\xd8\xff" + bytes(100)).decode(),
            "JPEG bytes",
        ),
        ("data:image/jpeg;base64,AAAA", "another type"),
        ("data:image/png;base64,!!!", "not base64"),
    ],
)
def test_a_forged_canvas_picture_is_not_read(tiny_app, forged, what):
    """The pad's picture comes over the websocket, past the uploader's checks: anything but a
    canvas-sized PNG is read as no drawing, with no error and no digit."""
    tiny_app.session_state["canvas"] = {
        "drawing": {"raw": {"objects": [{"type": "Path"}]}, "data": forged}
    }
    at = tiny_app.run()
    assert not at.exception and current_digit(at) is None, what


def test_a_canvas_picture_far_bigger_than_the_canvas_is_not_read(tiny_app):
    wide = np.zeros((300, 5000, 4), np.uint8)
    wide[..., 3] = 255
    wide[100:200, 100:4900, :3] = 255  # plenty of ink: it would be read as a digit
    tiny_app.session_state["canvas"] = canvas_state(wide)
    at = tiny_app.run()
    assert not at.exception and current_digit(at) is None


@pytest.mark.parametrize("forged", ["outside", "../../x", "mnist_cnn_adversarial", 42])
def test_a_forged_network_choice_falls_back_to_the_shared_network(
    tiny_app, tiny_models_dir, tmp_path, forged
):
    """Whatever reached the session's choice (a forged picker message), only a trained model's
    name is ever used: anything else is the shared network, with no error to learn from. A model
    pair outside the models folder is never loaded."""
    import json
    import shutil

    outside = tmp_path / "elsewhere" / "evil"
    outside.parent.mkdir()
    shutil.copy(ModelCache(tiny_models_dir).model_path, outside.with_suffix(".keras"))
    info = json.loads((tiny_models_dir / "mnist_cnn.json").read_text())
    info.pop("files")  # an older record: it names NAME.keras beside itself
    (outside.with_suffix(".json")).write_text(json.dumps(info | {"test_accuracy": 0.1234}))
    tiny_app.session_state["session_model"] = str(outside) if forged == "outside" else forged
    at = tiny_app.switch_page("pages/network.py").run()
    assert not at.exception and not at.error
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "learned from MNIST" in sidebar and "12.34%" not in sidebar
