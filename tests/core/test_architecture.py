"""Architectures as data: presets build the networks they describe (parameter counts checked
against the textbook formulas), layers are found from the model, specs round-trip."""

import pytest

from mnist_viz.core import architecture as arch
from mnist_viz.core.model import architecture as layer_table
from mnist_viz.core.model import build_model


def expected_params(spec: arch.Architecture) -> int:
    """Weights + biases, layer by layer: k*k*c_in*f + f per convolution, n_in*n_out + n_out
    per dense layer."""
    total, channels, side = 0, 1, 28
    for f in spec.filters:
        total += spec.kernel * spec.kernel * channels * f + f
        channels, side = f, side - spec.kernel + 1
        if spec.pooling:
            side //= 2
    flat = side * side * channels
    return total + flat * spec.dense + spec.dense + spec.dense * 10 + 10


@pytest.mark.parametrize("name", list(arch.PRESETS))
def test_every_preset_has_the_parameters_its_spec_implies(name):
    spec = arch.preset(name)
    model = arch.build(spec)
    assert model.count_params() == expected_params(spec)
    assert model.output.shape[1:] == (10,)
    assert [layer.name for layer in arch.conv_layers(model)] == [
        f"conv{i}" for i in range(1, len(spec.filters) + 1)
    ]
    assert len(arch.pool_layers(model)) == (len(spec.filters) if spec.pooling else 0)
    assert [layer.name for layer in arch.hidden_dense_layers(model)] == ["dense"]


def test_classic_is_the_shipped_network():
    ours, shipped = layer_table(arch.build(arch.preset("classic"))), layer_table(build_model())
    assert ours == shipped
    assert sum(row.params for row in ours) == 225_034  # the README's table


def test_an_mlp_has_no_convolution_and_no_last_conv():
    mlp = arch.build(arch.preset("mlp"))
    assert arch.conv_layers(mlp) == [] and arch.last_conv(mlp) is None
    assert arch.spatial_layers(mlp) == []
    assert "multilayer perceptron" in arch.preset("mlp").describe()


def test_a_third_convolution_is_found_as_the_last_one():
    spec = arch.Architecture("deep", filters=(8, 16, 32))
    model = arch.build(spec)
    assert arch.last_conv(model).name == "conv3"
    assert [layer.name for layer in arch.spatial_layers(model)] == [
        "conv1",
        "pool1",
        "conv2",
        "pool2",
        "conv3",
        "pool3",
    ]
    assert model.get_layer("pool3").output.shape[1:] == (1, 1, 32)


def test_specs_round_trip_and_describe_themselves():
    spec = arch.Architecture("custom", filters=(8, 16), kernel=5, pooling=False, dense=64)
    assert arch.Architecture.from_dict(spec.to_dict()) == spec
    assert spec.describe() == "2 convolutions (8, 16 filters, 5x5), no pooling, dense 64"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"filters": (8, 8, 8, 8)}, "at most 3"),
        ({"filters": (8, 8, 8), "kernel": 5}, "too many convolutions"),
        ({"kernel": 4}, "3x3 or 5x5"),
        ({"dense": 0}, "at least one unit"),
        ({"dropout": 1.0}, "fraction below 1"),
    ],
)
def test_impossible_specs_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        arch.Architecture("bad", **kwargs)


def test_unknown_preset_names_the_presets():
    with pytest.raises(ValueError, match="classic, small, mlp, no-pooling"):
        arch.preset("resnet")


@pytest.mark.parametrize("name", list(arch.PRESETS))
def test_map_layers_report_every_feature_map_size(name):
    spec = arch.preset(name)
    found = arch.map_layers(arch.build(spec))
    # the sizes by hand: a valid k x k convolution takes k - 1 off, 2 x 2 pooling halves
    expected, side = [], 28
    for i, f in enumerate(spec.filters, start=1):
        side -= spec.kernel - 1
        expected.append((f"conv{i}", f, side))
        if spec.pooling:
            side //= 2
            expected.append((f"pool{i}", f, side))
    assert [(m.name, m.channels, m.height) for m in found] == expected
    assert all(m.height == m.width for m in found)
    assert all(60 <= m.height * m.tile_scale <= 110 or m.tile_scale in (3, 12) for m in found)


def test_map_layer_labels_and_the_feature_layer():
    model = arch.build(arch.preset("classic"))
    assert [m.label for m in arch.map_layers(model)] == [
        "conv1 (32 x 26x26)",
        "pool1 (32 x 13x13)",
        "conv2 (64 x 11x11)",
        "pool2 (64 x 5x5)",
    ]
    assert arch.feature_layer(model).name == "dense"
    assert arch.map_layers(arch.build(arch.preset("mlp"))) == []
