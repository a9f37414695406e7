"""Results computed for a model, a digit or both, cached so that reruns and other sessions reuse
them: attack sweeps, robustness curves, filter and cortex reports, explanations, probes, the
style reference, teaching a private copy, RSA and shift tolerance."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import keras
import numpy as np
import streamlit as st

from mnist_viz.adversarial import attacks
from mnist_viz.adversarial.lab import (
    RobustnessCurve,
    Sweep,
    attack_sweep,
    measure_robustness,
    prepare_for_sweep,
    sweep_view,
)
from mnist_viz.core.cache import (
    CachedModel,
)
from mnist_viz.core.errors import DataError
from mnist_viz.core.jobs import FAILED, PRIVATE, QUEUED, RUNNING, Job
from mnist_viz.core.model import to_model_input
from mnist_viz.explain import explanations, invariance
from mnist_viz.inputs import personal, style
from mnist_viz.inputs.digit import Digit
from mnist_viz.inside.filter_vis import FilterReport, filter_reports
from mnist_viz.neuro import rsa
from mnist_viz.neuro.cortex import CortexReport, cortex_report
from ui.jobs import COMPUTE, computed_once, queue, shared_results, this_session
from ui.models import get_data, load_data

_log = logging.getLogger(__name__)

SHIFT_TEST_DIGITS = 300  # test digits the compare page shifts

# The pages call the get_* functions with a cached model and a digit. Each derives the cache's
# keys (the model's SHA-256, the digit's key) from them once, so a key can never be paired with
# another model's weights or another digit's pixels; the private functions below are the cached
# computations, whose underscore arguments Streamlit does not hash.


def get_minimal_epsilon(cached: CachedModel, digit: Digit, method: str, target: int | None):
    """The smallest epsilon at which ``method`` fools the model on this digit (None: not by 0.5)."""
    return _minimal_epsilon(*_keys(cached, digit), method, target, cached.model, digit.image)


def get_sweep(cached: CachedModel, digit: Digit, method: str, target: int | None) -> Sweep:
    """One attack on one digit at every epsilon of the slider."""
    return _sweep(*_keys(cached, digit), method, target, cached.model, digit.image)


def get_sweep_view(
    cached: CachedModel,
    digit: Digit,
    method: str,
    target: int | None,
    flips: dict[str, float | None],
) -> dict:
    """What the slider component shows for that sweep (images as data URLs): sent once."""
    return _sweep_view(*_keys(cached, digit), method, target, cached.model, digit.image, flips)


def get_explanations(cached: CachedModel, digit: Digit) -> dict[str, np.ndarray]:
    """Every applicable attribution method's maps of one digit for all ten classes (10, 28, 28),
    by method name: computed once per digit, so that switching classes is instant and every
    class's map can be drawn on the same scale."""
    return _explanations(*_keys(cached, digit), cached.model, digit.image)


def get_probes(cached: CachedModel, digit: Digit):
    """The invariance probes (shift, rotation, scale, thickness) of one digit."""
    return _probes(*_keys(cached, digit), cached.model, digit.image)


def get_feature_model(cached: CachedModel) -> keras.Model:
    """The model's last hidden layer as a sub-model (``style.feature_model``)."""
    return _feature_model(cached.info.model_sha256, cached.model)


def get_rdms(cached: CachedModel) -> dict[str, np.ndarray]:
    """The RDM of every compared layer for the RSA stimuli (10 test digits of each class)."""
    return _rdms(cached.info.model_sha256, cached.model)


def get_shift_accuracy(cached: CachedModel) -> np.ndarray:
    """Accuracy on the first ``SHIFT_TEST_DIGITS`` test digits at each shift of ``SHIFTS``."""
    return _shift_accuracy(cached.info.model_sha256, cached.model)


def _keys(cached: CachedModel, digit: Digit) -> tuple[str, str]:
    return cached.info.model_sha256, digit.key


@st.cache_data(max_entries=64, show_spinner=False)
def _prepared(
    model_sha256: str,
    digit_key: str,
    method: str,
    target: int | None,
    _model: keras.Model,
    _image: np.ndarray,
) -> np.ndarray | None:
    """What ``method`` shares across epsilons for this digit (FGSM: sign(grad)), once per
    (model, digit, attack, target)."""
    return prepare_for_sweep(_model, _image, method, target)


@st.cache_data(max_entries=256, show_spinner=False)
def _minimal_epsilon(
    model_sha256: str,
    digit_key: str,
    method: str,
    target: int | None,
    _model: keras.Model,
    _image: np.ndarray,
) -> float | None:
    """The smallest epsilon at which ``method`` fools the model on this digit (None: not by 0.5)."""
    x = to_model_input(_image)[0, ..., 0]
    prepared = _prepared(model_sha256, digit_key, method, target, _model, _image)
    return attacks.get_attack(method).minimal_epsilon(_model, x, target=target, prepared=prepared)


# A class's digits x attacks x goals x models: 256 of each (a sweep and its view are about
# 0.1-0.2 MB together), so a slider release finds its sweep still there.
@st.cache_data(
    max_entries=256, show_spinner="Attacking this digit at every setting of the slider..."
)
def _sweep(
    model_sha256: str,
    digit_key: str,
    method: str,
    target: int | None,
    _model: keras.Model,
    _image: np.ndarray,
) -> Sweep:
    """One attack on one digit at every epsilon of the slider, from what it prepared (cached)."""
    prepared = _prepared(model_sha256, digit_key, method, target, _model, _image)
    return attack_sweep(_model, _image, method, target, prepared=prepared)


@st.cache_data(max_entries=256, show_spinner=False)
def _sweep_view(
    model_sha256: str,
    digit_key: str,
    method: str,
    target: int | None,
    _model: keras.Model,
    _image: np.ndarray,
    flips: dict[str, float | None],
) -> dict:
    """What the slider component shows for that sweep (images as data URLs): sent once."""
    sweep = _sweep(model_sha256, digit_key, method, target, _model, _image)
    return sweep_view(sweep, flips) | {"model": model_sha256}  # a new model resets the slider


def _robustness_key(method: str) -> str:
    return f"robustness {method}"


def robustness_curves(model_sha256: str) -> dict[str, RobustnessCurve]:
    """The robustness curves computed so far for one model, by attack name."""
    store = shared_results()
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
def _explanations(
    model_sha256: str, digit_key: str, _model: keras.Model, _image: np.ndarray
) -> dict[str, np.ndarray]:
    """Every applicable method's maps for all ten classes (10, 28, 28), by method name."""
    return explanations.explain_all(_model, _image)


@st.cache_data(max_entries=64, show_spinner=False)
def _probes(model_sha256: str, digit_key: str, _model: keras.Model, _image: np.ndarray):
    """The invariance probes (shift, rotation, scale, thickness) of one digit."""
    return invariance.all_probes(_model, _image)


@st.cache_resource(max_entries=4)
def _feature_model(model_sha256: str, _model: keras.Model) -> keras.Model:
    """The model's last hidden layer as a sub-model (``style.feature_model``)."""
    return style.feature_model(_model)


def _style_reference_job(cached: CachedModel) -> tuple[tuple, Callable, str] | None:
    try:
        data = load_data()
    except DataError:  # no MNIST to compare with: the feedback is left out, the page goes on
        return None
    return (
        ("style", cached.info.model_sha256),
        lambda progress: style.fit_reference(
            cached.model, data.x_train, data.y_train, data.x_test, data.y_test, progress=progress
        ),
        "Comparing with MNIST's own digits (once per model, a few seconds)...",
    )


# The last style reference job per model, and when it was asked for: a failed one is asked for
# again after RETRY_S, not on every unsure answer (each would run it ahead of private work).
_style_jobs: dict[tuple, tuple[Job, float]] = {}
RETRY_S = 600.0


def warm_style_reference(cached: CachedModel) -> None:
    """Start computing the style reference in the background if nobody has, so that the first
    unsure drawings already get the feedback on their shape."""
    ready_style_reference(cached)


def ready_style_reference(cached: CachedModel) -> style.StyleReference | None:
    """The style reference if it is computed already, else None (and it is asked for): the
    answer on the Draw page never waits for it behind the class's queue of heavy work."""
    job = _style_reference_job(cached)
    if job is None:
        return None
    key = job[0]
    if key in shared_results():
        return shared_results().get(key)
    last = _style_jobs.get(key)
    if last is not None and last[0].status in (QUEUED, RUNNING):
        return None
    if last is not None and last[0].status == FAILED:
        if time.monotonic() - last[1] < RETRY_S:
            return None  # it failed just now: not again on every unsure answer
        _log.error("The style reference failed, asking again: %r", last[0].error)
    _style_jobs[key] = (shared_results().request(*job), time.monotonic())
    return None


def get_style_reference(cached: CachedModel) -> style.StyleReference | None:
    """MNIST's classes in the last hidden layer (once per model, a few seconds); None when MNIST
    cannot be loaded."""
    job = _style_reference_job(cached)
    if job is None:
        return None
    (what, sha), compute, message = job
    return computed_once(what, sha, compute, message)


def submit_teaching(cached: CachedModel, images: np.ndarray, labels: np.ndarray) -> Job:
    """Teach private copies of the shared model the learner's examples, in the background
    (``personal.teach``), after every shared result waiting on the compute queue; one at a time
    per session, cancelled if the session ends first. Raises DataError when MNIST (needed for
    replay and the check) cannot be loaded, ``OwnerBusy`` or ``QueueFull`` when it must wait."""
    data = load_data()
    check = np.random.default_rng(0).permutation(len(data.y_test))[: personal.CHECK_DIGITS]
    session, alive = this_session()
    return queue(COMPUTE).submit(
        f"teach:{session}",
        lambda report, waiting: personal.teach(
            cached.model,
            images,
            labels,
            data.x_train,
            data.y_train,
            data.x_test[check],
            data.y_test[check],
            progress=report,
        ),
        "Teaching a private copy",
        priority=PRIVATE,
        owner=session,
        owner_alive=alive,
    )


@st.cache_data(
    max_entries=8, show_spinner="Recording every layer's responses to 100 test digits..."
)
def _rdms(model_sha256: str, _model: keras.Model) -> dict[str, np.ndarray]:
    """The RDM of every compared layer for the RSA stimuli (10 test digits of each class)."""
    data = get_data()
    return rsa.layer_rdms(_model, data.x_test[rsa.stimuli(data.y_test)])


@st.cache_data(max_entries=8, show_spinner="Shifting test digits left and right...")
def _shift_accuracy(model_sha256: str, _model: keras.Model) -> np.ndarray:
    """Accuracy on the first ``SHIFT_TEST_DIGITS`` test digits at each shift of ``SHIFTS``."""
    data = get_data()
    n = SHIFT_TEST_DIGITS
    return invariance.shift_accuracy(_model, data.x_test[:n], data.y_test[:n])
