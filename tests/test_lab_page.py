"""AppTest for the adversarial lab: the slider breaks a known digit; no setting raises."""

import base64
import io
import json

import numpy as np
import pytest
from conftest import app_test, finish_training, sign_in_as_teacher, tiny_mnist, write_idx_folder
from PIL import Image
from streamlit.testing.v1 import AppTest

from mnist_viz.adversarial import attacks
from mnist_viz.adversarial.adversarial_training import ADVERSARIAL_MODEL
from mnist_viz.core.cache import ModelCache
from mnist_viz.core.data import load_mnist
from mnist_viz.core.model import predict_proba
from mnist_viz.inputs.digit import from_test_set

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")
LAB = "pages/adversarial.py"


@pytest.fixture
def tiny_app(tiny_models_dir, tmp_path, monkeypatch) -> AppTest:
    import shutil

    models = shutil.copytree(tiny_models_dir, tmp_path / "models")
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(models))
    monkeypatch.setenv("MNIST_DATA", str(write_idx_folder(tmp_path / "mnist", tiny_mnist())))
    return app_test()


def test_lab_without_a_digit_prompts_for_one(tiny_app):
    at = tiny_app.switch_page(LAB).run()
    assert not at.exception
    assert at.title[0].value == "Adversarial lab"
    assert "no digit yet" in at.info[0].value


def sweep_view(at: AppTest) -> dict:
    """The data the slider component received (it draws everything else in the browser)."""
    return json.loads(at.get("bidi_component")[0].proto.json)


def decoded(url: str) -> np.ndarray:
    return (
        np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))), np.float32) / 255
    )


def test_the_slider_shows_a_known_digit_breaking_where_it_should(
    mnist_model_dir, official_mnist_path, monkeypatch
):
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(mnist_model_dir))
    monkeypatch.setenv("MNIST_DATA", str(official_mnist_path))
    data = load_mnist(official_mnist_path)
    model = ModelCache(mnist_model_dir).load().model
    # a correctly classified test digit that FGSM flips, and the epsilon that does it (computed
    # here independently of the page)
    for index in range(50):
        x = data.x_test[index] / 255.0
        if predict_proba(model, x).argmax() != data.y_test[index]:
            continue
        flip = attacks.minimal_epsilon_fgsm(model, x)
        if flip is not None and flip <= 0.25:
            break
    at = app_test()
    at.session_state["current_digit"] = from_test_set(data.x_test, data.y_test, index)
    at.switch_page(LAB).run()
    assert not at.exception
    view = sweep_view(at)
    original = int(data.y_test[index])
    assert view["clean"]["cls"] == original and view["method"] == "FGSM"
    assert view["flips"]["FGSM"] == pytest.approx(flip)
    for eps, step in zip(view["epsilons"], view["steps"], strict=True):
        # every position, checked against an independent FGSM and prediction
        adversarial = attacks.fgsm(model, x, None, eps)
        np.testing.assert_allclose(decoded(step["img"]), adversarial, atol=1 / 255)
        assert step["cls"] == int(predict_proba(model, adversarial).argmax())
        assert step["linf"] <= eps + 1e-6
        if eps < flip:
            assert step["cls"] == original and not step["fooled"]
    first = int(np.ceil(flip * 100))  # the first slider position at or above the flip
    assert view["steps"][first]["fooled"] and view["steps"][first]["cls"] != original
    # a released slider drives the rest of the page
    at.session_state["lab_sweep"] = {"epsilon": view["epsilons"][first]}
    at.run()
    assert not at.exception
    assert any(f"epsilon {view['epsilons'][first]:.2f}" in h.value for h in at.subheader)


def test_no_setting_raises(tiny_app):
    data = tiny_mnist()
    tiny_app.session_state["current_digit"] = from_test_set(data.x_test, data.y_test, 0)
    at = tiny_app.switch_page(LAB).run()
    for attack in attacks.ATTACKS:
        at.segmented_control(key="lab_attack").set_value(attack).run()
        for goal in ["any wrong answer", 3]:
            at.selectbox(key="lab_target").select(goal).run()
            for epsilon in (0.0, 0.25, 0.5):
                at.session_state["lab_sweep"] = {"epsilon": epsilon}
                at.run()
                assert not at.exception, (attack, goal, epsilon)
                view = sweep_view(at)
                assert view["method"] == attack and len(view["steps"]) == 51
    for layer in ("conv1", "pool1", "conv2", "pool2"):
        at.segmented_control(key="lab_layer").set_value(layer).run()
        assert not at.exception


def test_jsma_slides_over_pixels_changed_outlined_and_checked_against_its_path(tiny_app):
    from mnist_viz.adversarial.jsma import jsma
    from mnist_viz.adversarial.lab import OUTLINE_SCALE, PIXEL_STEPS

    data = tiny_mnist()
    tiny_app.session_state["current_digit"] = from_test_set(data.x_test, data.y_test, 0)
    at = tiny_app.switch_page(LAB).run()
    at.segmented_control(key="lab_attack").set_value("JSMA").run()
    at.selectbox(key="lab_target").select(3).run()
    assert not at.exception
    view = sweep_view(at)
    assert view["method"] == "JSMA" and view["axis"] == "pixels"
    assert view["epsilons"] == list(PIXEL_STEPS)
    # the page's path is JSMA's, computed here independently of the page's caches
    model = ModelCache().load().model
    path = jsma(model, data.x_test[0], 3, stop_at_target=False)
    for k, step in zip(view["epsilons"], view["steps"], strict=True):
        shown = decoded(step["img"])  # enlarged, each changed pixel outlined
        assert shown.shape[:2] == (28 * OUTLINE_SCALE, 28 * OUTLINE_SCALE)
        inside = shown[1::OUTLINE_SCALE, 1::OUTLINE_SCALE, 0]  # a pixel's inside, not its frame
        np.testing.assert_allclose(inside, path.image(k), atol=1 / 255)
        assert step["changed"] == int(path.changed_mask(k).sum())
        assert step["fooled"] == (step["cls"] == 3)
    fooled = [k for k, step in zip(view["epsilons"], view["steps"], strict=True) if step["fooled"]]
    assert view["flips"] == ({"JSMA": fooled[0]} if fooled else {})
    # a released slider drives the rest of the page; a forged value lands on a real setting
    for sent, shown_as in ((10, "(10 pixels"), (11.2, "(12 pixels"), ("x", "(0 pixels")):
        at.session_state["lab_pixels"] = {"epsilon": sent}
        at.run()
        assert not at.exception, sent
        assert any(shown_as in h.value for h in at.subheader), [h.value for h in at.subheader]
    at.selectbox(key="lab_target").select("any wrong answer").run()
    assert not at.exception and sweep_view(at)["method"] == "JSMA"


def test_robustness_is_measured_on_request(tiny_app):
    data = tiny_mnist()
    tiny_app.session_state["current_digit"] = from_test_set(data.x_test, data.y_test, 0)
    at = tiny_app.switch_page(LAB).run()
    assert any("Not measured yet" in i.value for i in at.info)
    n = len(data.x_test)
    assert any(f"FGSM on all {n:,} test images" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Measure robustness").click()
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["model"]) == ["classic, standard training"]
    assert {"clean", "FGSM 0.1", "PGD 0.3"} <= set(table.columns)


@pytest.mark.process  # trains in a child process, as the app does
def test_only_the_teacher_trains_the_robust_model(tiny_app, teacher_password):
    data = tiny_mnist()
    tiny_app.session_state["current_digit"] = from_test_set(data.x_test, data.y_test, 0)
    at = tiny_app.switch_page(LAB).run()
    assert not [b for b in at.button if b.label == "Train a robust model"]
    assert any("only the teacher" in i.value for i in at.info)
    at = sign_in_as_teacher(at)
    at.number_input[-1].set_value(1)  # epochs
    next(b for b in at.button if b.label == "Train a robust model").click()
    at.run()
    assert not at.exception
    at = finish_training(at, "my_robust_training")
    assert not at.exception
    info = ModelCache(name=ADVERSARIAL_MODEL).read_info()
    assert info.config["epochs"] == 1
    # both models can now be attacked
    assert at.segmented_control(key="lab_model").options == [
        "classic, standard training",
        "adversarially trained",
    ]
    at.segmented_control(key="lab_model").set_value("adversarially trained").run()
    assert not at.exception
