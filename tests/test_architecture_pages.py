"""Every page, in AppTest, on networks other than the classic one: a tiny multilayer perceptron
(no filters, no feature maps) and a tiny CNN with three convolutions of other sizes. Each page
must run clean, derive its layers and sizes from the model, and say what does not apply."""

import pytest
from conftest import (
    app_test,
    canvas_drawing,
    canvas_state,
    save_tiny_model,
    tiny_mnist,
    write_idx_folder,
)
from streamlit.testing.v1 import AppTest

from mnist_viz.core.architecture import Architecture, preset
from mnist_viz.core.cache import model_name
from mnist_viz.inputs.digit import from_test_set

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")
TIMEOUT = 240  # first visits compute the filter and cortex reports
TINY_MLP = Architecture("mlp", filters=(), dense=24)
THREE_CONVS = Architecture("custom", filters=(4, 6, 8), dense=16)  # 26, 13, 11, 5, 3, 1


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("arch_models")
    save_tiny_model(folder)  # the classic one, as the shared default
    # the others' shapes are what these tests are about: trained the quick way
    save_tiny_model(folder, arch=TINY_MLP, quick=True)
    save_tiny_model(folder, arch=THREE_CONVS, quick=True)
    for name in ("small", "no-pooling"):  # the other presets, as they are
        save_tiny_model(folder, arch=preset(name), quick=True)
    return folder


@pytest.fixture
def env(models_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("MNIST_DATA", str(write_idx_folder(tmp_path / "mnist", tiny_mnist())))


def app_with(arch: Architecture, monkeypatch) -> AppTest:
    """The app looking at ``arch``: the MLP as the served network (``MNIST_VIZ_ARCH``), the
    custom one as a session's own choice."""
    at = app_test(TIMEOUT)
    if arch is TINY_MLP:
        monkeypatch.setenv("MNIST_VIZ_ARCH", "mlp")
    else:
        at.session_state["session_model"] = model_name(arch.name)
    data = tiny_mnist()
    at.session_state["current_digit"] = from_test_set(data.x_test, data.y_test, 0)
    return at


def texts(at: AppTest) -> str:
    parts = [*at.info, *at.caption, *at.markdown, *at.subheader, *at.header]
    return "\n".join(str(p.value) for p in parts)


@pytest.mark.parametrize(
    "arch",
    [TINY_MLP, THREE_CONVS, preset("small"), preset("no-pooling")],
    ids=["mlp", "three-convs", "small", "no-pooling"],
)
def test_every_page_runs_clean(env, arch, monkeypatch):
    at = app_with(arch, monkeypatch)
    for page in [
        "pages/draw.py",
        "pages/network.py",
        "pages/training.py",
        "pages/why.py",
        "pages/filters.py",
        "pages/cortex.py",
        "pages/adversarial.py",
        "pages/how_it_learns.py",
        "pages/compare.py",
    ]:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        # the sidebar names the network this session looks at
        picker = at.selectbox(key="model_picker")
        assert picker.value == model_name(arch.name), page


def test_an_mlp_says_what_does_not_apply(env, monkeypatch):
    at = app_with(TINY_MLP, monkeypatch)
    at.switch_page("pages/network.py").run()
    shown = texts(at)
    assert "no convolutions" in shown and "no feature maps" in shown
    assert "Dense layer: 24 units" in shown
    assert "the 784 pixels are flattened into 784 numbers" in shown.lower()
    # its parameter count, against an independent count: 784*24+24 + 24*10+10
    assert list(at.dataframe[0].value["Parameters"])[-1] == 784 * 24 + 24 + 24 * 10 + 10
    at.switch_page("pages/filters.py").run()
    assert "no convolutions" in texts(at)
    at.switch_page("pages/cortex.py").run()
    assert "does not apply" in texts(at)
    at.switch_page("pages/why.py").run()
    assert "Grad-CAM is left out" in texts(at)


def test_how_it_learns_follows_an_mlp_weight_from_a_pixel(env, monkeypatch):
    at = app_with(TINY_MLP, monkeypatch)
    at.switch_page("pages/how_it_learns.py").run()
    assert not at.exception
    layers = at.selectbox(key="learning_layer").options
    assert [name.split(" ")[0] for name in layers] == ["dense", "logits"]  # found in the model
    first = "dense"
    at.number_input(key=f"learning_{first}_input_unit").set_value(407).run()
    at.number_input(key=f"learning_{first}_output_unit").set_value(5).run()
    assert not at.exception
    assert f"{first}: input unit 407, output unit 5" in texts(at)
    chain = at.table[1].value  # after the forward pass's table
    assert "dL/dw[407, 5] = delta_5 x a_407" in list(chain["rule"])
    # the pixels' weights into a unit are laid out as the 28 x 28 image
    assert "28 per row" in texts(at)


def test_a_three_convolution_network_shows_its_own_layers(env, monkeypatch):
    at = app_with(THREE_CONVS, monkeypatch)
    at.switch_page("pages/network.py").run()
    maps = at.segmented_control(key="map_layer")
    layers = ["conv1", "pool1", "conv2", "pool2", "conv3", "pool3"]
    # each labelled with its own size, e.g. "conv3 (8 x 3x3)"
    assert maps.options[:5] == [
        "conv1 (4 x 26x26)",
        "pool1 (4 x 13x13)",
        "conv2 (6 x 11x11)",
        "pool2 (6 x 5x5)",
        "conv3 (8 x 3x3)",
    ]
    for layer in layers:
        at.segmented_control(key="map_layer").set_value(layer).run()
        assert not at.exception
    assert at.segmented_control(key="filters_of").options == ["conv2", "conv3"]
    at.segmented_control(key="filters_of").set_value("conv3").run()
    at.segmented_control(key="conv3_browse").set_value("input channel").run()
    assert at.slider(key="conv3_channel").max == 5  # conv2's 6 maps feed conv3
    shown = texts(at)
    assert "pool3's 8 maps of 1 x 1 are flattened into 8 numbers" in shown
    assert "conv3: 8 filters x (3 x 3 x 6 weights) + 8 biases = 440" in shown
    at.switch_page("pages/why.py").run()
    assert "Which places in conv3's maps vote for the class" in texts(at)
    at.switch_page("pages/cortex.py").run()
    assert at.segmented_control(key="ephys_layer").options == ["conv1", "conv2", "conv3"]
    at.switch_page("pages/filters.py").run()
    assert at.segmented_control(key="filters_layer").options == ["conv1", "conv2", "conv3"]


def test_a_learner_switches_network_for_their_session_only(env, monkeypatch):
    at = app_test(TIMEOUT)
    at.session_state["canvas"] = canvas_state(canvas_drawing("1"))
    at.run()
    picker = at.selectbox(key="model_picker")
    assert picker.value == "mnist_cnn"  # the served network
    picker.set_value(model_name(TINY_MLP.name)).run()
    assert not at.exception
    assert at.session_state["session_model"] == "mnist_mlp"
    at.switch_page("pages/network.py").run()
    assert "Dense layer: 24 units" in texts(at)
    # another session still starts with the served network
    other = app_test(TIMEOUT).switch_page("pages/network.py").run()
    assert "conv1: 32 filters, 3 x 3" in texts(other)


def chart_data(chart):
    """The rows a Vega-Lite chart was given (Streamlit sends them as Arrow, beside the spec)."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    return convert_arrow_bytes_to_pandas_df(chart.proto.data.data)


def test_compare_page_sets_a_cnn_beside_an_mlp(env):
    at = app_test(TIMEOUT)
    data = tiny_mnist()
    at.session_state["current_digit"] = from_test_set(data.x_test, data.y_test, 0)
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    at.selectbox(key="compare_b").set_value("mnist_mlp").run()
    assert not at.exception
    assert [m.label for m in at.main.metric] == ["Prediction", "Prediction"]
    charts = [chart_data(c) for c in at.get("vega_lite_chart")]
    shifts = next(rows for rows in charts if "shift" in rows.columns)
    assert set(shifts["model"]) == {"A: classic", "B: mlp"}
    cells = next(rows for rows in charts if "similarity" in rows.columns).to_dict("records")
    assert {c["layer of A"] for c in cells} == {
        "conv1",
        "pool1",
        "conv2",
        "pool2",
        "dense",
        "logits",
    }
    assert {c["layer of B"] for c in cells} == {"dense", "logits"}
    assert all(-1 <= c["similarity"] <= 1 for c in cells)
    # robustness is measured on request, for both networks, on this page too
    assert not [rows for rows in charts if "attack" in rows.columns]
    next(b for b in at.button if b.label == "Measure robustness").click()
    at.run()
    assert not at.exception
    charts = [chart_data(c) for c in at.get("vega_lite_chart")]
    curves = next(rows for rows in charts if "attack" in rows.columns)
    assert set(zip(curves["model"], curves["attack"], strict=True)) == {
        ("A: classic", "FGSM"),
        ("A: classic", "PGD"),
        ("B: mlp", "FGSM"),
        ("B: mlp", "PGD"),
    }
    assert not [b for b in at.button if b.label == "Measure robustness"]


def test_compare_page_with_one_network_says_how_to_train_another(tiny_models_dir, monkeypatch):
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tiny_models_dir))
    at = app_test(TIMEOUT).switch_page("pages/compare.py").run()
    assert not at.exception
    assert "Only one network is trained" in at.info[0].value


@pytest.mark.process  # trains in a child process, as the app does
def test_the_robust_twin_of_an_mlp_is_an_mlp(models_dir, tmp_path, monkeypatch, teacher_password):
    import shutil

    from conftest import finish_training, sign_in_as_teacher

    from mnist_viz.core.architecture import conv_layers
    from mnist_viz.core.cache import ModelCache, architecture_of

    models = shutil.copytree(models_dir, tmp_path / "models")
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(models))
    monkeypatch.setenv("MNIST_DATA", str(write_idx_folder(tmp_path / "mnist", tiny_mnist())))
    at = app_with(TINY_MLP, monkeypatch)
    at.switch_page("pages/adversarial.py").run()
    assert "Model under attack: mlp, standard training" in texts(at)
    at = sign_in_as_teacher(at)
    at.number_input[-1].set_value(1)  # epochs
    next(b for b in at.button if b.label == "Train a robust model").click()
    at.run()
    at = finish_training(at, "my_robust_training")
    assert not at.exception
    twin = ModelCache(models, "mnist_mlp_adversarial").load()
    assert architecture_of(twin.info) == TINY_MLP and not conv_layers(twin.model)
    assert at.segmented_control(key="lab_model").options == [
        "mlp, standard training",
        "adversarially trained",
    ]
    at.segmented_control(key="lab_model").set_value("adversarially trained").run()
    assert not at.exception
    # the classic network's robust twin was not touched
    assert not ModelCache(models, "mnist_cnn_adversarial").info_path.exists()


def test_how_it_learns_shows_a_wide_dense_layer_a_block_at_a_time(env, monkeypatch):
    """Without pooling, 36,864 inputs feed the Dense layer: its maps show 1,600 at a time."""
    at = app_with(preset("no-pooling"), monkeypatch)
    at.switch_page("pages/how_it_learns.py").run()
    at.selectbox(key="learning_layer").select("dense").run()
    at.number_input(key="learning_dense_input_unit").set_value(20_000).run()
    assert not at.exception
    assert "(inputs 19,200 to 20,799 of 36,864)" in texts(at)
