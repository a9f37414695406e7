"""Training in a niced child process: progress comes back line by line, the cache is written, and
failures come back as one clear message."""

import pytest
from conftest import TINY_PEN_DIGITS, tiny_mnist, write_idx_folder

from mnist_viz.core.cache import STANDARD_MODEL, ModelCache
from mnist_viz.core.errors import DataError
from mnist_viz.core.training import TrainingProgress
from mnist_viz.core.worker import NICENESS, STANDARD, TrainingError, TrainSpec, run_training


@pytest.mark.process
def test_a_child_process_trains_into_the_cache_at_low_priority(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DATA", str(write_idx_folder(tmp_path / "mnist", tiny_mnist())))
    models = tmp_path / "models"
    reports = []
    spec = TrainSpec(str(models), STANDARD_MODEL, STANDARD, {"epochs": 1, "batch_size": 64})
    done = run_training(spec, reports.append)
    info = ModelCache(models).read_info()
    assert done["model_sha256"] == info.model_sha256 and done["trained_now"]
    assert done["niceness"] >= NICENESS
    assert info.config["batch_size"] == 64 and info.n_train == 512 + 2 * TINY_PEN_DIGITS
    assert reports and all(isinstance(r, TrainingProgress) for r in reports)
    assert reports[-1].batch == reports[-1].batches == 12  # (512 + 240) images / 64

    # load_first: a usable cached model is used as it is, nothing is trained
    again = run_training(TrainSpec(str(models), STANDARD_MODEL, load_first=True))
    assert again == {**done, "trained_now": False}


@pytest.mark.process
def test_the_child_gets_none_of_the_servers_secrets(tiny_models_dir, monkeypatch):
    monkeypatch.setenv("MNIST_VIZ_TEACHER_PASSWORD", "a long teacher passphrase")
    monkeypatch.setenv("teacher_password", "exported by Streamlit from secrets.toml")
    monkeypatch.setenv("STREAMLIT_SERVER_COOKIE_SECRET", "cookie")
    done = run_training(TrainSpec(str(tiny_models_dir), STANDARD_MODEL, load_first=True))
    assert done["secrets_seen"] == []


@pytest.mark.process
def test_a_failure_in_the_child_comes_back_as_one_message(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DATA", str(tmp_path / "nowhere"))
    spec = TrainSpec(str(tmp_path / "models"), STANDARD_MODEL, STANDARD, {"epochs": 1})
    with pytest.raises(DataError, match="nowhere: no such file or folder"):
        run_training(spec)
    with pytest.raises(TrainingError, match="unknown recipe 'magic'"):
        run_training(TrainSpec(str(tmp_path / "models"), STANDARD_MODEL, "magic"))


def test_every_recipe_is_found_by_name_and_held_to_the_limits():
    import importlib

    from mnist_viz.core.worker import ADVERSARIAL, RECIPES

    assert set(RECIPES) == {STANDARD, ADVERSARIAL}
    for name, where in RECIPES.items():
        module, function = where.split(":")
        recipe = getattr(importlib.import_module(module), function)
        config, trainer = recipe(None)
        assert callable(trainer) and config.epochs >= 1, name
        with pytest.raises(ValueError):  # far beyond what the app may be asked to train
            recipe({"epochs": 10_000})
