"""Faults while a model is saved: the trainer killed at each step, and a full disk.

The trainer is the app's own (``mnist_viz.core.worker`` in a child process, as a teacher's training
runs); ``MNIST_VIZ_FAULT=save:<step>`` makes it kill itself with SIGKILL at that step of saving.
Afterwards the served model must be a consistent pair: the teacher's model, or the new one once
its metadata was in place, never a mismatch and never a retrain.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import save_tiny_model, tiny_mnist, write_idx_folder

from mnist_viz.core.architecture import Architecture
from mnist_viz.core.cache import FAULT_ENV_VAR, SAVE_STEPS, STANDARD_MODEL, ModelCache
from mnist_viz.core.errors import ModelCacheError
from mnist_viz.core.training import TrainConfig, train_model
from mnist_viz.core.worker import STANDARD, TrainingError, TrainSpec, run_training

COMMITTED_AFTER = SAVE_STEPS.index("json-renamed")  # from this step on, the new model is current


@pytest.fixture
def teachers_model(tmp_path, monkeypatch):
    """A models folder holding the teacher's model, and MNIST for a new training."""
    monkeypatch.setenv("MNIST_DATA", str(write_idx_folder(tmp_path / "mnist", tiny_mnist())))
    models = save_tiny_model(tmp_path / "models")
    return models, ModelCache(models).read_info().model_sha256


@pytest.mark.process
@pytest.mark.parametrize("step", SAVE_STEPS)
def test_a_trainer_killed_at_any_step_of_saving_leaves_a_consistent_pair(
    teachers_model, monkeypatch, step
):
    models, teachers = teachers_model
    monkeypatch.setenv(FAULT_ENV_VAR, f"save:{step}")
    spec = TrainSpec(str(models), STANDARD_MODEL, STANDARD, {"epochs": 1, "batch_size": 64})
    with pytest.raises(TrainingError, match=r"was killed \(SIGKILL\)"):  # as a kill kills
        run_training(spec)
    monkeypatch.delenv(FAULT_ENV_VAR)
    served = ModelCache(models).load()  # a consistent pair: no error
    if SAVE_STEPS.index(step) < COMMITTED_AFTER:
        assert served.info.model_sha256 == teachers  # the teacher's model is kept
    else:
        assert served.info.model_sha256 != teachers
        assert ModelCache(models).load_previous().info.model_sha256 == teachers
    # the next save tidies up whatever the killed one left behind
    again = run_training(spec)
    names = {p.name for p in models.iterdir()}
    assert not [n for n in names if n.startswith(".")], names
    assert ModelCache(models).load().info.model_sha256 == again["model_sha256"]
    assert len([n for n in names if n.endswith(".keras")]) <= 2  # current and previous


def can_mount_tmpfs() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.fixture
def small_disk(tmp_path):
    """A 6 MB tmpfs: room for a small model, not for the classic network and its snapshots."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        if os.environ.get("MNIST_VIZ_REQUIRE_FAULTS") == "1":
            pytest.fail(f"a tmpfs is required here but cannot be mounted: {done.stderr}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_during_a_save_is_a_clear_error_and_the_old_model_stays(small_disk):
    data = tiny_mnist()
    cache = ModelCache(small_disk)
    small = TrainConfig(epochs=1, batch_size=64, arch=Architecture("mlp", filters=(), dense=8))
    with cache.lock():
        cache.save(train_model(data, small), data)
    kept = cache.read_info().model_sha256
    big = train_model(data, TrainConfig(epochs=1, batch_size=64))  # 2.7 MB + 9 MB of snapshots
    with cache.lock(), pytest.raises(ModelCacheError) as error:
        cache.save(big, data)
    assert "No space left on device" in str(error.value) and "previous model is kept" in str(
        error.value
    )
    assert cache.load().info.model_sha256 == kept
    assert not [p for p in small_disk.iterdir() if p.name.startswith(".")]  # no temp files
