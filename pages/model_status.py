"""The model: where its data came from, how well it does, and what it is made of."""

import streamlit as st

from mnist_viz.data import DATA_ENV_VAR, SOURCE_SAMPLE
from mnist_viz.model import architecture
from pages._resources import get_model

st.title("The model")
st.caption(
    "A small convolutional network, the classic teaching architecture for handwritten digits: "
    "two convolution + pooling stages that find strokes and shapes, then two dense layers that vote "
    "for a digit."
)

cached = get_model()
info = cached.info

if cached.trained_now:
    st.success(f"Trained and cached in {info.training_seconds:.1f} s.")

cols = st.columns(4)
cols[0].metric(
    "Test accuracy",
    f"{info.test_accuracy:.2%}",
    help=f"On {info.n_test:,} test images the network never saw during training.",
)
cols[1].metric("Training time", f"{info.training_seconds:.1f} s")
cols[2].metric("Epochs", info.epochs, help="Passes over the whole training set.")
rows = architecture(cached.model)
cols[3].metric("Parameters", f"{sum(r.params for r in rows):,}", help="Weights and biases learned.")

st.subheader("Data")
st.write(info.data_description + ".")
if info.data_source == SOURCE_SAMPLE:
    st.warning(
        "MNIST could not be downloaded, so the model was trained on the small offline sample. "
        f"For the full 70,000 digits, set `{DATA_ENV_VAR}` to a folder holding the four official "
        "IDX files (or a Keras `mnist.npz`), delete `models/`, and restart."
    )

st.subheader("Architecture")
st.caption(
    "Each row is a layer; the output shape is height x width x channels for images, or the number "
    "of values. Parameters are the weights and biases the layer learns: a 3x3 convolution with 32 "
    "filters on 1 channel has 32 x (3 x 3 x 1) weights + 32 biases = 320."
)
table = [
    {
        "Layer": r.name,
        "Type": r.kind,
        "Output shape": " x ".join(str(d) for d in r.output_shape),
        "Parameters": r.params,
    }
    for r in rows
]
table.append(
    {"Layer": "total", "Type": "", "Output shape": "", "Parameters": sum(r.params for r in rows)}
)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    height="content",  # every layer and the total, without an inner scrollbar
    column_config={"Parameters": st.column_config.NumberColumn(format="localized")},
)

with st.expander("Per-class test accuracy"):
    st.bar_chart(
        {"digit": [str(d) for d in range(10)], "accuracy": info.per_class_accuracy},
        x="digit",
        y="accuracy",
    )

with st.expander("How it was trained"):
    st.write(
        f"Recipe v{info.recipe_version}, trained {info.created} with "
        + ", ".join(f"{k} {v}" for k, v in info.versions.items())
        + "."
    )
    st.json(info.config)
