"""The other presets, trained from the command line on the complete official MNIST, reach their
accuracy floors; the cached model's accuracy is recomputed independently.

Slow (about a minute and a half): skipped only where the official MNIST is absent.
"""

import numpy as np
import pytest

from mnist_viz.__main__ import main
from mnist_viz.core.cache import ModelCache, architecture_of, model_name
from mnist_viz.core.data import load_mnist
from mnist_viz.core.model import predict_proba
from mnist_viz.core.pendigits import PEN_DATA_ENV_VAR

pytestmark = pytest.mark.slow
FLOORS = {"small": 0.985, "mlp": 0.97}


@pytest.mark.parametrize("arch", list(FLOORS))
def test_preset_trained_from_the_cli_reaches_its_floor(
    arch, official_mnist_path, tmp_path, monkeypatch
):
    monkeypatch.delenv(PEN_DATA_ENV_VAR)  # the default mix with all the shipped pen digits
    models = tmp_path / "models"
    args = [
        "train",
        "--arch",
        arch,
        "--data",
        str(official_mnist_path),
        "--models-dir",
        str(models),
    ]
    assert main(args) == 0
    cached = ModelCache(models, model_name(arch)).load()
    assert architecture_of(cached.info).name == arch
    assert cached.info.test_accuracy >= FLOORS[arch], f"{arch}: {cached.info.test_accuracy:.4f}"
    data = load_mnist(official_mnist_path)
    predictions = predict_proba(cached.model, data.x_test).argmax(axis=1)
    assert np.mean(predictions == data.y_test) == pytest.approx(cached.info.test_accuracy, abs=1e-4)
