"""The app's cached loaders, shared by every page: the one place that holds Streamlit caches.

The model is shared read-only by all sessions, so it uses ``st.cache_resource`` (no copy per call).
Training runs in one background job per model cache (``mnist_viz.jobs``), also shared.
"""

from __future__ import annotations

import dataclasses
import gc

import keras
import numpy as np
import streamlit as st

from mnist_viz import dataset_stats
from mnist_viz.activations import build_activation_model
from mnist_viz.cache import CachedModel, ModelCache
from mnist_viz.data import MnistData, load_mnist
from mnist_viz.errors import DataError, ModelCacheError
from mnist_viz.jobs import JobRegistry, TrainingJob
from mnist_viz.model import Evaluation, evaluate
from mnist_viz.training import TrainConfig

POLL_SECONDS = 0.25


@st.cache_resource(show_spinner="Loading the trained model...", max_entries=2)
def _load_model(models_dir: str, model_sha256: str) -> CachedModel:
    # Keyed on the file's hash: a retrained model (new hash) is loaded once, then shared.
    cached = ModelCache(models_dir).load()
    _freeze_heap()
    return cached


def _freeze_heap() -> None:
    """Move everything alive now (TensorFlow, Keras, the model) out of the garbage collector's view.

    After every script run Streamlit calls ``keras.backend.clear_session()``, which runs a full
    ``gc.collect()``: about 200 ms with TensorFlow's hundreds of thousands of objects, on every
    rerun. Frozen objects are skipped, which brings it to a few ms. They are long-lived anyway.
    """
    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner="Loading MNIST...")
def _load_data() -> MnistData:
    # cache_resource, not cache_data: cache_data would copy the 55 MB of arrays on every call.
    # The arrays are only ever read.
    return load_mnist()


def get_data() -> MnistData:
    """MNIST from the same sources training uses; on failure a clear message and the page stops."""
    try:
        return _load_data()
    except DataError as exc:
        _data_error(exc)
        st.stop()


@st.cache_resource(max_entries=2)
def get_activation_model(model_sha256: str, _model: keras.Model) -> keras.Model:
    """The sub-model that returns every layer's output, built once per trained model."""
    return build_activation_model(_model)


@st.cache_data(show_spinner="Evaluating the model on the test set...", max_entries=2)
def get_evaluation(model_sha256: str, _model: keras.Model, _data: MnistData) -> Evaluation:
    """Accuracy and confusion matrix on the whole test set, once per trained model."""
    return evaluate(_model, _data.x_test, _data.y_test)


@st.cache_data(max_entries=2)
def get_mean_images(data_location: str, _data: MnistData) -> np.ndarray:
    """The average training image of each class."""
    return dataset_stats.mean_images(_data.x_train, _data.y_train)


@st.cache_resource
def _training_jobs() -> JobRegistry:
    # One registry per server process: every session sees the same running training.
    return JobRegistry()


def _train_with_progress(cache: ModelCache) -> CachedModel:
    """Train in a background thread (it survives a closed tab) and show its progress here."""
    job = _training_jobs().get_or_start(
        str(cache.model_path),
        lambda report, waiting: cache.load_or_train(load_mnist, progress=report, on_wait=waiting),
    )
    return follow_training(
        job,
        "**First run: training the network.** This happens once (about half a minute on a "
        "laptop); the trained model is cached in `models/` for every later visit. Training goes "
        "on if you close this tab.",
    )


def running_training() -> TrainingJob | None:
    """The training job running for the standard model, if any (started by any session)."""
    return _training_jobs().running(str(ModelCache().model_path))


def start_retraining(config: TrainConfig) -> TrainingJob:
    """Train a new model with ``config`` in the background; it replaces the cache atomically when
    done, and every session keeps using the current model until then."""
    cache = ModelCache()

    def train(report, waiting) -> CachedModel:
        return cache.train(load_mnist, config, progress=report, on_wait=waiting)

    return _training_jobs().get_or_start(str(cache.model_path), train)


def follow_training(job: TrainingJob, message: str) -> CachedModel:
    """Show ``message`` and a progress bar until ``job`` ends; re-raises the job's error."""
    status = st.empty()
    status.info(message)
    bar = st.progress(0.0, text="Loading MNIST...")
    while not job.wait(POLL_SECONDS):
        p = job.progress
        if p is not None:
            bar.progress(
                p.fraction,
                text=f"Epoch {p.epoch} of {p.epochs}, batch {p.batch} of {p.batches}: "
                f"loss {p.loss:.3f}, training accuracy {p.accuracy:.1%}",
            )
        elif job.waiting:
            bar.progress(0.0, text="Another process is training the model; waiting for it...")
    bar.empty()
    status.empty()
    if job.error is not None:
        raise job.error
    return job.result


def get_model() -> CachedModel:
    """The trained model, training it first (with a progress bar) if the cache has none.

    On a data or cache problem, shows a clear message and stops the page.
    """
    cache = ModelCache()
    try:
        try:
            info = cache.read_info()
            return _load_model(str(cache.directory), info.model_sha256)
        except ModelCacheError:
            trained = _train_with_progress(cache)
            loaded = _load_model(str(cache.directory), trained.info.model_sha256)
            if trained.trained_now:
                st.success(
                    f"Trained and cached in {trained.info.training_seconds:.1f} s: "
                    f"{trained.info.test_accuracy:.2%} on the test set."
                )
            return dataclasses.replace(loaded, trained_now=trained.trained_now)
    except DataError as exc:
        _data_error(exc)
    except ModelCacheError as exc:
        st.error(f"**The model cache cannot be used.** {exc}")
    st.stop()


def _data_error(exc: DataError) -> None:
    st.error(
        f"**MNIST could not be loaded.** {exc}\n\nPoint `MNIST_DATA` at a folder with the "
        "four official IDX files (or an `mnist.npz`), or unset it to use the built-in sources."
    )
