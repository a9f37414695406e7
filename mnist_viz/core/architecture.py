"""Networks as data: a small spec of layers and sizes, presets, and layers found from the model.

A spec is stored with every cached model (``Architecture.to_dict``), so any code that gets a model
can also learn what it is; but code that inspects a model should find its layers from the model
itself (``conv_layers``, ``pool_layers``, ``hidden_dense_layers``), as tf-keras-vis finds the last
convolution, and derive labels, sizes and grids from them.

Layer names follow one pattern whatever the spec: ``conv1``..``convN``, ``pool1``..``poolN`` (when
pooling), ``flatten``, ``dropout``, ``dense``, ``logits`` (the linear class scores) and
``probabilities`` (the softmax, its own layer so that attacks can use the logits). The classic
preset builds exactly the network the app has always shipped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from mnist_viz.core.data import IMAGE_SIZE, NUM_CLASSES

if TYPE_CHECKING:  # Keras is imported where a network is built or inspected: the CLI's
    import keras  # argument parsing and the presets need no TensorFlow

INPUT_NAME, FLATTEN, DROPOUT, DENSE, LOGITS, PROBABILITIES = (
    "image",
    "flatten",
    "dropout",
    "dense",
    "logits",
    "probabilities",
)
MAX_CONV_LAYERS = 3  # a 28 x 28 input has room for three 3x3 convolutions with 2x2 pooling


@dataclass(frozen=True)
class Architecture:
    """What a network is made of. ``filters`` lists each convolution's filter count (empty: a
    multilayer perceptron); each convolution is followed by 2x2 max pooling when ``pooling``."""

    name: str
    filters: tuple[int, ...] = (32, 64)
    kernel: int = 3
    pooling: bool = True
    dense: int = 128
    dropout: float = 0.25

    def __post_init__(self) -> None:
        if len(self.filters) > MAX_CONV_LAYERS:
            raise ValueError(f"at most {MAX_CONV_LAYERS} convolution layers")
        if any(f < 1 for f in self.filters) or self.dense < 1:
            raise ValueError("every layer needs at least one unit")
        if self.kernel not in (3, 5):
            raise ValueError("kernels are 3x3 or 5x5")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout is a fraction below 1")
        side = IMAGE_SIZE
        for _ in self.filters:
            side = side - self.kernel + 1
            if self.pooling:
                side //= 2
            if side < 1:
                raise ValueError("too many convolutions for a 28 x 28 input")

    @property
    def is_convolutional(self) -> bool:
        return bool(self.filters)

    def describe(self) -> str:
        """One line for a learner, e.g. "2 convolutions (32, 64 filters, 3x3), pooling, dense 128"."""
        if not self.filters:
            return f"no convolutions (a multilayer perceptron), dense {self.dense}"
        k = f"{self.kernel}x{self.kernel}"
        pooling = "max pooling" if self.pooling else "no pooling"
        n = len(self.filters)
        sizes = ", ".join(str(f) for f in self.filters)
        return (
            f"{n} convolution{'s' if n != 1 else ''} ({sizes} filters, {k}), {pooling}, "
            f"dense {self.dense}"
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "filters": list(self.filters)}

    @classmethod
    def from_dict(cls, data: dict) -> Architecture:
        return cls(**{**data, "filters": tuple(data.get("filters", ()))})


PRESETS: dict[str, Architecture] = {
    arch.name: arch
    for arch in (
        Architecture("classic"),  # the network the app has always shipped
        Architecture("small", filters=(16, 32)),  # as in one of the reference Streamlit apps
        Architecture("mlp", filters=(), dense=512),  # 97.6% on MNIST; 256 units: 97.2%
        Architecture("no-pooling", pooling=False),
    )
}
DEFAULT_ARCH = "classic"


def preset(name: str) -> Architecture:
    """A preset by name; ``ValueError`` naming the presets otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; presets: {', '.join(PRESETS)}") from None


def build(arch: Architecture) -> keras.Model:
    """The network of ``arch`` (functional API, every layer named; see the module docstring)."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1), name=INPUT_NAME)
    x = inputs
    for i, n in enumerate(arch.filters, start=1):
        x = layers.Conv2D(n, arch.kernel, activation="relu", name=f"conv{i}")(x)
        if arch.pooling:
            x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Flatten(name=FLATTEN)(x)
    x = layers.Dropout(arch.dropout, name=DROPOUT)(x)
    x = layers.Dense(arch.dense, activation="relu", name=DENSE)(x)
    x = layers.Dense(NUM_CLASSES, name=LOGITS)(x)
    outputs = layers.Activation("softmax", name=PROBABILITIES)(x)
    name = "mnist_cnn" if arch.name == DEFAULT_ARCH else f"mnist_{arch.name.replace('-', '_')}"
    return keras.Model(inputs, outputs, name=name)


# -- layers found from the model ----------------------------------------------------------------


def conv_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's 2-D convolutions, input to output."""
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def pool_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's 2-D pooling layers, input to output."""
    import keras

    kinds = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def hidden_dense_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's Dense layers except the last (the class scores)."""
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][:-1]


def last_conv(model: keras.Model) -> keras.layers.Layer | None:
    """The last convolution (where Grad-CAM looks), or None for a model without any."""
    convs = conv_layers(model)
    return convs[-1] if convs else None


def spatial_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Convolutions and poolings in order: the layers with feature maps to show."""
    import keras

    kinds = (keras.layers.Conv2D, keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


@dataclass(frozen=True)
class MapLayer:
    """A layer whose output is a stack of feature maps, described from the model itself."""

    name: str
    kind: str  # "convolution" or "pooling"
    channels: int
    height: int
    width: int

    @property
    def label(self) -> str:
        """e.g. "conv1 (32 x 26x26)": what the layer is and what it outputs."""
        return f"{self.name} ({self.channels} x {self.height}x{self.width})"

    @property
    def tile_scale(self) -> int:
        """Screen pixels per map pixel, so that maps of every size show at a similar size."""
        return max(3, min(12, 96 // self.height))


def map_layers(model: keras.Model) -> list[MapLayer]:
    """Every convolution and pooling layer, input to output, with its output's size."""
    import keras

    found = []
    for layer in spatial_layers(model):
        height, width, channels = (int(d) for d in layer.output.shape[1:])
        kind = "convolution" if isinstance(layer, keras.layers.Conv2D) else "pooling"
        found.append(MapLayer(layer.name, kind, channels, height, width))
    return found


def feature_layer(model: keras.Model) -> keras.layers.Layer:
    """The last hidden Dense layer (the features the class scores are read from)."""
    hidden = hidden_dense_layers(model)
    if not hidden:
        raise ValueError(f"model {model.name!r} has no hidden Dense layer")
    return hidden[-1]
