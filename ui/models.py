"""The models and data every page reads: the served network, the session's choice, other trained
networks (``ModelSlot``), their training snapshots, and MNIST; all loaded once per server process
(``st.cache_resource``: shared read-only, no copy per call)."""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np
import streamlit as st

from mnist_viz.adversarial.adversarial_training import adversarial_name
from mnist_viz.core.activations import build_activation_model
from mnist_viz.core.architecture import DEFAULT_ARCH, preset
from mnist_viz.core.cache import (
    STANDARD_MODEL,
    CachedModel,
    ModelCache,
    ModelInfo,
    model_name,
    trained_models,
)
from mnist_viz.core.data import MnistData, load_mnist
from mnist_viz.core.errors import DataError, ModelCacheError, NoCachedModel
from mnist_viz.core.jobs import Job
from mnist_viz.core.model import Evaluation, evaluate, predict_proba
from mnist_viz.core.pendigits import PenDigits, load_pen_digits, sample_renderings
from mnist_viz.core.training import Snapshot
from mnist_viz.core.worker import STANDARD, TrainingError
from mnist_viz.inside import dataset_stats, timeline
from ui.class_session import served_by_class
from ui.jobs import follow_job, submit_training, training_job
from ui.runtime import settle_heap

TIMELINE_TEST_DIGITS = 1000  # test digits each training snapshot is scored on

ARCH_ENV_VAR = "MNIST_VIZ_ARCH"  # the network the app serves (and trains on first run)

SESSION_MODEL = "session_model"  # session state: the cached model this session looks at

FIRST_RUN_MESSAGE = (
    "**First run: training the network.** This happens once (about a minute on a laptop); "
    "the trained model is cached in `models/` for every later visit. Training goes on if you "
    "close this tab."
)


@st.cache_resource(show_spinner="Loading the trained model...", max_entries=4)
def _load_model(
    models_dir: str, model_sha256: str, name: str = STANDARD_MODEL, previous: bool = False
) -> CachedModel:
    # Keyed on the file's hash: a retrained model (new hash) is loaded once, then shared.
    # ``previous``: the model before the current one (when the current cannot be used).
    cache = ModelCache(models_dir, name)
    cached = cache.load_previous() if previous else cache.load()
    predict_proba(cached.model, np.zeros((1, 28, 28), np.uint8))  # trace it before freezing
    settle_heap()
    return cached


@st.cache_resource(show_spinner="Loading MNIST...")
def load_data() -> MnistData:
    # cache_resource, not cache_data: cache_data would copy the 55 MB of arrays on every call.
    # The arrays are only ever read.
    return load_mnist()


@st.cache_resource(max_entries=4, show_spinner=False)
def get_snapshots(name: str, model_sha256: str) -> list[Snapshot]:
    """The weights the session's model had as it trained (empty if none were kept)."""
    cache = ModelCache(name=name)
    try:
        return cache.read_snapshots(cache.read_info())
    except ModelCacheError:
        return []


def get_model_at(cached: CachedModel, index: int, snapshot: Snapshot):
    """The model as it was at snapshot ``index``, its activations sub-model, and its accuracy on
    the first ``TIMELINE_TEST_DIGITS`` test digits (cached by the model's SHA-256 and index)."""
    return _model_at(cached.info.model_sha256, index, cached.model, snapshot)


def get_activation_model(cached: CachedModel) -> keras.Model:
    """The sub-model that returns every layer's output, built once per trained model."""
    return _activation_model(cached.info.model_sha256, cached.model)


def get_evaluation(cached: CachedModel, data: MnistData) -> Evaluation:
    """Accuracy and confusion matrix on the whole test set, once per trained model."""
    return _evaluation(cached.info.model_sha256, cached.model, data)


@st.cache_resource(max_entries=12, show_spinner=False)
def _model_at(model_sha256: str, index: int, _model: keras.Model, _snapshot: Snapshot):
    """The model as it was at one snapshot, its activations sub-model, and its accuracy on the
    first ``TIMELINE_TEST_DIGITS`` test digits: built once, shared by every session."""
    then = timeline.model_at(_model, _snapshot)
    data = get_data()
    n = TIMELINE_TEST_DIGITS
    accuracy = timeline.accuracy_at(_model, _snapshot, data.x_test[:n], data.y_test[:n])
    return then, build_activation_model(then), accuracy


def get_data() -> MnistData:
    """MNIST from the same sources training uses; on failure a clear message and the page stops."""
    try:
        return load_data()
    except DataError as exc:
        _data_error(exc)
        st.stop()


@st.cache_resource(max_entries=2)
def _activation_model(model_sha256: str, _model: keras.Model) -> keras.Model:
    """The sub-model that returns every layer's output, built once per trained model."""
    return build_activation_model(_model)


@st.cache_data(show_spinner="Evaluating the model on the test set...", max_entries=2)
def _evaluation(model_sha256: str, _model: keras.Model, _data: MnistData) -> Evaluation:
    """Accuracy and confusion matrix on the whole test set, once per trained model."""
    return evaluate(_model, _data.x_test, _data.y_test)


@st.cache_resource(show_spinner="Loading the pen-drawn digits...")
def _load_pen_digits() -> PenDigits:
    return load_pen_digits()


def get_pen_digits() -> PenDigits | None:
    """The real pen-drawn digits the default mix learns from; None, after a message, when their
    file cannot be read (the rest of the page still works)."""
    try:
        return _load_pen_digits()
    except DataError as exc:
        st.error(f"**The pen-drawn digits could not be loaded.** {exc}")
        return None


PEN_SAMPLES_PER_CLASS = 100  # pen digits rendered per class for the data page (about 2 s)


@st.cache_data(show_spinner="Drawing the pen digits as the network saw them...", max_entries=1)
def get_pen_samples(location: str, _pen: PenDigits) -> tuple[np.ndarray, np.ndarray]:
    """Pen digits of each class rendered as training renders them, once per server."""
    return sample_renderings(_pen, PEN_SAMPLES_PER_CLASS)


@st.cache_data(max_entries=2)
def get_mean_images(data_location: str, _data: MnistData) -> np.ndarray:
    """The average training image of each class."""
    return dataset_stats.mean_images(_data.x_train, _data.y_train)


def get_source_comparison(data: MnistData, pen: PenDigits) -> list[dict]:
    """Slant and ink per digit, MNIST's training set against the pen samples: about half a
    second of CPU over 60,000 digits, so once per pair of sources, not on every page run."""
    return _source_comparison(data.location, pen.location, data, pen)


@st.cache_data(max_entries=2, show_spinner="Comparing the two sources digit by digit...")
def _source_comparison(
    data_location: str, pen_location: str, _data: MnistData, _pen: PenDigits
) -> list[dict]:
    pen_images, pen_labels = get_pen_samples(pen_location, _pen)
    return dataset_stats.compare_sources((_data.x_train, _data.y_train), (pen_images, pen_labels))


def served_arch() -> str:
    """The preset named by ``MNIST_VIZ_ARCH`` (default ``classic``); the page stops with a clear
    message when it names none."""
    name = os.environ.get(ARCH_ENV_VAR) or DEFAULT_ARCH
    try:
        return preset(name).name
    except ValueError as exc:
        st.error(f"**`{ARCH_ENV_VAR}` names no network.** {exc}")
        st.stop()


def shared_model_name() -> str:
    """The cache name of the model every session starts with: the class model when the teacher
    serves it (and it exists), else the served network's."""
    chosen = served_by_class()
    if chosen is not None and chosen in available_models():
        return chosen
    return model_name(served_arch())


def available_models() -> dict[str, ModelInfo]:
    """Every trained model a session may look at, by cache name."""
    return trained_models(ModelCache().directory)


def session_model_name() -> str:
    """The model this session looks at: its own choice while that model exists, else the shared
    one."""
    chosen = st.session_state.get(SESSION_MODEL)
    # Only a name from the set of trained models: the choice may have come from a forged message.
    if isinstance(chosen, str) and chosen != shared_model_name() and chosen in available_models():
        return chosen
    return shared_model_name()


def get_model() -> CachedModel:
    """The session's model (``session_model_name``), training the shared one first (with a
    progress bar) if the cache has none.

    On a data, cache or training problem, shows a clear message and stops the page.
    """
    name = session_model_name()
    cache = ModelCache(name=name)
    try:
        try:
            info = cache.read_info()
            return _load_model(str(cache.directory), info.model_sha256, name)
        except ModelCacheError as current:
            return _fallback(cache, name, current)
    except DataError as exc:
        _data_error(exc)
    except ModelCacheError as exc:
        st.error(f"**The model cache cannot be used.** {exc}")
    except TrainingError as exc:
        st.error(f"**The network could not be trained.** {exc}")
    st.stop()


def _fallback(cache: ModelCache, name: str, current: ModelCacheError) -> CachedModel:
    """When the current model cannot be used: the one before it, with a message; else, for the
    shared model, a training (the first run, or one that says what it replaces)."""
    try:
        previous = cache.read_previous_info()
        loaded = _load_model(str(cache.directory), previous.model_sha256, name, previous=True)
    except ModelCacheError:
        loaded = None
    if loaded is not None:
        st.error(
            f"**The current {name} model cannot be used** ({current}). The one before it is "
            "shown; the teacher can train it again on **Training & evaluation**.",
            icon=":material/error:",
        )
        return loaded
    if name != shared_model_name():
        raise current
    if not isinstance(current, NoCachedModel):
        st.error(
            f"**The cached model cannot be used** ({current}) and no earlier one is kept: it "
            "is being trained again with the default settings.",
            icon=":material/error:",
        )
    arch = preset(served_arch())
    job = submit_training(
        name,
        config={"arch": arch.to_dict()},
        load_first=True,
        title="First run: training the network",
    )
    done = follow_job(job, FIRST_RUN_MESSAGE)
    loaded = _load_model(str(cache.directory), done["model_sha256"], name)
    if done["trained_now"]:
        st.success(
            f"Trained and cached in {loaded.info.training_seconds:.1f} s: "
            f"{loaded.info.test_accuracy:.2%} on the test set."
        )
    return dataclasses.replace(loaded, trained_now=done["trained_now"])


def _data_error(exc: DataError) -> None:
    st.error(
        f"**MNIST could not be loaded.** {exc}\n\nPoint `MNIST_DATA` at a folder with the "
        "four official IDX files (or an `mnist.npz`), or unset it to use the built-in sources."
    )


@dataclasses.dataclass(frozen=True)
class ModelSlot:
    """One shared model in the cache, by name (``mnist_cnn``, ``mnist_mlp``,
    ``mnist_cnn_adversarial``...): loaded once per server while its file is unchanged, trained on
    the shared queue (one training at a time), replaced atomically when a training ends."""

    name: str

    def load(self) -> CachedModel | None:
        """The trained model, or None if there is none (or it cannot be used)."""
        cache = ModelCache(name=self.name)
        try:
            return _load_model(str(cache.directory), cache.read_info().model_sha256, self.name)
        except ModelCacheError:
            return None

    def training(self) -> Job | None:
        """The training of this model queued or running (started by any session), if any."""
        return training_job(self.name)

    def train(self, recipe: str = STANDARD, config: dict | None = None, title: str = "") -> Job:
        """Queue a training of this model (a teacher's action: pages check ``teacher_only``)."""
        return submit_training(self.name, recipe, config, title)


def robust_slot() -> ModelSlot:
    """The adversarially trained twin of the session's network (``mnist_cnn_adversarial`` for
    the classic one); the network itself when the session already looks at a robust one."""
    return ModelSlot(adversarial_name(session_model_name()))
