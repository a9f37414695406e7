"""The app's cached loaders, shared by every page: the one place that holds Streamlit caches.

The model is shared read-only by all sessions, so it uses ``st.cache_resource`` (no copy per call).
Training runs in one background job per model cache (``mnist_viz.jobs``), also shared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keras
import numpy as np
import streamlit as st

from mnist_viz import attacks, dataset_stats, invariance
from mnist_viz.activations import build_activation_model
from mnist_viz.adversarial_training import ADVERSARIAL_MODEL, AdversarialConfig, train_adversarial
from mnist_viz.cache import STANDARD_MODEL, CachedModel, ModelCache
from mnist_viz.cortex import CortexReport, cortex_report
from mnist_viz.data import MnistData, load_mnist
from mnist_viz.errors import DataError, ModelCacheError
from mnist_viz.filter_vis import FilterReport, filter_reports
from mnist_viz.gradcam import gradcam
from mnist_viz.jobs import JobRegistry, TrainingJob
from mnist_viz.lab import AttackOutcome, RobustnessCurve, attack_digit, measure_robustness
from mnist_viz.model import Evaluation, evaluate, predict_proba, to_model_input
from mnist_viz.occlusion import occlusion_map
from mnist_viz.saliency import gradient_saliency, smoothgrad
from mnist_viz.training import TrainConfig
from pages._runtime import settle_heap

POLL_SECONDS = 0.25


@st.cache_resource(show_spinner="Loading the trained model...", max_entries=4)
def _load_model(models_dir: str, model_sha256: str, name: str = STANDARD_MODEL) -> CachedModel:
    # Keyed on the file's hash: a retrained model (new hash) is loaded once, then shared.
    cached = ModelCache(models_dir, name).load()
    predict_proba(cached.model, np.zeros((1, 28, 28), np.uint8))  # trace it before freezing
    settle_heap()
    return cached


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


# -- the adversarial lab ------------------------------------------------------------------------


def get_adversarial_model() -> CachedModel | None:
    """The adversarially trained model if one is cached (it is only trained on request)."""
    cache = ModelCache(name=ADVERSARIAL_MODEL)
    try:
        info = cache.read_info()
        return _load_model(str(cache.directory), info.model_sha256, ADVERSARIAL_MODEL)
    except ModelCacheError:
        return None


def running_adversarial_training() -> TrainingJob | None:
    return _training_jobs().running(str(ModelCache(name=ADVERSARIAL_MODEL).model_path))


def start_adversarial_training(config: AdversarialConfig) -> TrainingJob:
    """Adversarial training in the background, cached beside the standard model (same atomic,
    locked writes)."""
    cache = ModelCache(name=ADVERSARIAL_MODEL)

    def train(report, waiting) -> CachedModel:
        return cache.train(load_mnist, config, report, waiting, trainer=train_adversarial)

    return _training_jobs().get_or_start(str(cache.model_path), train)


@st.cache_data(max_entries=64, show_spinner=False)
def get_fgsm_direction(
    model_sha256: str, digit_key: str, target: int | None, _model: keras.Model, _image: np.ndarray
) -> np.ndarray:
    """sign(grad): computed once per (model, digit, target), reused for every epsilon."""
    return attacks.fgsm_direction(_model, to_model_input(_image)[0, ..., 0], None, target)


@st.cache_data(max_entries=256, show_spinner=False)
def get_minimal_epsilon(
    model_sha256: str,
    digit_key: str,
    method: str,
    target: int | None,
    _model: keras.Model,
    _image: np.ndarray,
) -> float | None:
    """The smallest epsilon at which ``method`` fools the model on this digit (None: not by 0.5)."""
    x = to_model_input(_image)[0, ..., 0]
    if method == attacks.FGSM:
        direction = get_fgsm_direction(model_sha256, digit_key, target, _model, _image)
        return attacks.minimal_epsilon_fgsm(_model, x, target=target, direction=direction)
    return attacks.minimal_epsilon_pgd(_model, x, target=target)


@st.cache_data(max_entries=512, show_spinner=False)
def get_attack(
    model_sha256: str,
    digit_key: str,
    method: str,
    target: int | None,
    epsilon: float,
    _model: keras.Model,
    _image: np.ndarray,
) -> AttackOutcome:
    """One attack on one digit; FGSM reuses the cached direction."""
    direction = None
    if method == attacks.FGSM:
        direction = get_fgsm_direction(model_sha256, digit_key, target, _model, _image)
    return attack_digit(_model, _image, epsilon, method, target, direction)


def _robustness_key(method: str) -> str:
    return f"robustness {method}"


def robustness_curves(model_sha256: str) -> dict[str, RobustnessCurve]:
    """The robustness curves computed so far for one model, by attack name."""
    store = _results_store()
    found = {m: store.get((_robustness_key(m), model_sha256)) for m in attacks.ATTACKS}
    return {m: curve for m, curve in found.items() if curve is not None}


def compute_robustness(model_sha256: str, model: keras.Model, method: str, label: str) -> None:
    """Compute (once per model) the accuracy-vs-epsilon curve for ``method``, with a progress bar."""
    data = get_data()
    computed_once(
        _robustness_key(method),
        model_sha256,
        lambda progress: measure_robustness(model, data, method, progress),
        f"{method} on the {label}...",
    )


# -- heavy results, once per model ----------------------------------------------------------------


@st.cache_resource
def _results_store() -> dict:
    # Shared by every session: {(what, model sha): result}. Filled on first request: robustness
    # curves, filter reports, the cortex report.
    return {}


def computed_once(what: str, model_sha256: str, compute: Callable, message: str):
    """A heavy per-model result (``compute(progress)``): computed once per server with a progress
    bar, then shared by every session and rerun."""
    store = _results_store()
    key = (what, model_sha256)
    if key not in store:
        bar = st.progress(0.0, text=message)
        store[key] = compute(lambda f: bar.progress(min(1.0, float(f)), text=message))
        bar.empty()
    return store[key]


def get_filter_reports(cached: CachedModel) -> dict[str, FilterReport]:
    data = get_data()
    return computed_once(
        "filters",
        cached.info.model_sha256,
        lambda progress: filter_reports(cached.model, data.x_test, progress),
        "Finding what each filter wants to see (once per model, a few seconds)...",
    )


def get_cortex_report(cached: CachedModel) -> CortexReport:
    data = get_data()
    return computed_once(
        "cortex",
        cached.info.model_sha256,
        lambda progress: cortex_report(cached.model, data.x_test, progress),
        "Recording from every unit and fitting Gabor functions (once per model)...",
    )


@st.cache_data(max_entries=64, show_spinner=False)
def get_explanations(
    model_sha256: str, digit_key: str, class_index: int, _model: keras.Model, _image: np.ndarray
) -> dict[str, np.ndarray]:
    """Saliency, SmoothGrad, Grad-CAM and occlusion maps (28, 28) for one digit and class."""
    return {
        "saliency": gradient_saliency(_model, _image, class_index),
        "smoothgrad": smoothgrad(_model, _image, class_index),
        "gradcam": gradcam(_model, _image, class_index)[1],
        "occlusion": occlusion_map(_model, _image, class_index),
    }


@st.cache_data(max_entries=64, show_spinner=False)
def get_probes(model_sha256: str, digit_key: str, _model: keras.Model, _image: np.ndarray):
    """The invariance probes (shift, rotation, scale, thickness) of one digit."""
    return invariance.all_probes(_model, _image)
