"""AppTest for the explanation, filter and visual-cortex pages (a tiny model, synthetic data)."""

import re

import pytest
from conftest import app_test, tiny_mnist, write_idx_folder
from streamlit.testing.v1 import AppTest

from mnist_viz.inputs.digit import from_test_set

TIMEOUT = 180  # the first visit computes the filter and cortex reports
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def app(tiny_models_dir, tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tiny_models_dir))
    monkeypatch.setenv("MNIST_DATA", str(write_idx_folder(tmp_path / "mnist", tiny_mnist())))
    at = app_test(TIMEOUT)
    data = tiny_mnist()
    at.session_state["current_digit"] = from_test_set(data.x_test, data.y_test, 0)
    return at


def image_captions(at: AppTest) -> list[str]:
    return [img.caption for element in at.main.get("image") for img in element.proto.imgs]


def test_why_page_shows_four_explanations_and_four_probes(app):
    at = app.switch_page("pages/why.py").run()
    assert not at.exception
    assert at.title[0].value == "Why this prediction"
    captions = image_captions(at)
    assert len(captions) >= 5 + 4 + 4  # input, 4 maps; 4 legends; 4 probe strips
    titles = ("Gradient saliency", "SmoothGrad", "Grad-CAM", "Occlusion")
    map_caption = re.compile(rf"^({'|'.join(titles)}) for \d: ")
    maps = [c for c in captions if map_caption.match(c)]
    assert len(maps) == 4
    # every map states its range in its own unit; occlusion's is signed, in percentage points
    occlusion = next(c for c in maps if c.startswith("Occlusion"))
    assert re.search(r"from [+-]?\d+\.\d pp to [+-]?\d+\.\d pp", occlusion), occlusion
    assert any("logit/ink" in c for c in maps)
    legends = [c for c in captions if c.startswith(titles) and ", in " in c]
    assert len(legends) == 4
    assert {s.value for s in at.subheader} == {"Shift", "Rotation", "Scale", "Stroke thickness"}
    predicted = at.selectbox(key="explain_class").value
    other = (predicted + 1) % 10
    at.selectbox(key="explain_class").select(other).run()
    assert not at.exception
    # the predicted class and the chosen one, side by side, on the same scales
    maps = [c for c in image_captions(at) if map_caption.match(c)]
    assert len(maps) == 8
    assert {c.split(" for ")[1].split(":")[0] for c in maps} == {str(predicted), str(other)}
    assert any("the same numbers in both rows" in c.value for c in at.caption)


def test_why_page_without_a_digit(tiny_models_dir, monkeypatch):
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tiny_models_dir))
    at = app_test(TIMEOUT)
    at.switch_page("pages/why.py").run()
    assert not at.exception and "no digit yet" in at.info[0].value


def test_filters_page_and_the_click_through_to_the_feature_map(app):
    at = app.switch_page("pages/filters.py").run()
    assert not at.exception
    assert at.title[0].value == "What each filter wants to see"
    at.segmented_control(key="filters_layer").set_value("conv2").run()
    at.slider(key="filters_index_conv2").set_value(17).run()
    assert not at.exception
    next(b for b in at.button if "feature map" in b.label).click()
    at.run()
    assert not at.exception
    assert at.title[0].value == "Inside the network"
    assert at.session_state["focus"] == ("conv2", 17)
    assert at.segmented_control(key="map_layer").value == "conv2"
    assert "conv2 map 17, enlarged" in image_captions(at)


def test_cortex_page_measures_and_explains(app):
    at = app.switch_page("pages/cortex.py").run()
    assert not at.exception
    assert at.title[0].value == "The network and the visual cortex"
    headers = [h.value for h in at.header]
    assert headers[:4] == [
        "Receptive fields",
        "conv1 as V1 simple cells",
        "In-silico electrophysiology",
        "Centre-surround, as in the retina and LGN",
    ]
    labels = [m.label for m in at.metric]
    assert "Median fit quality (R²)" in labels
    for layer in ("conv1", "conv2"):
        at.segmented_control(key="ephys_layer").set_value(layer).run()
        at.segmented_control(key="ephys_stimulus").set_value("bar").run()
        assert not at.exception
    markdown = " ".join(m.value for m in at.markdown)
    assert "conv2**: 8 x 8 px" in markdown
